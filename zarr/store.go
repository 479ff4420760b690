package zarr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// MaxMetadataBytes bounds the size of .zarray (and of .zgroup) that
// ReadArray and Import accept; zarr-python's are a few hundred bytes.
const MaxMetadataBytes = 1 << 20

// store is a Zarr store directory opened for reading. Its files are
// opened through an os.Root, so that a symbolic link is followed only
// while it stays inside the store: a chunk linked to /etc/passwd, or a key
// directory linked elsewhere, is refused, also if the link changes while
// the store is read. Files are opened without blocking and must be regular
// files: a FIFO or a device is refused, never waited on or read without
// end.
type store struct {
	dir  string
	root *os.Root
}

func openStore(dir string) (*store, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &store{dir: dir, root: r}, nil
}

func (s *store) Close() error { return s.root.Close() }

// open opens the store's file name (a slash-separated key) for reading
// and returns it with its size.
func (s *store) open(name string) (*os.File, int64, error) {
	f, err := s.root.OpenFile(filepath.FromSlash(name), os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return nil, 0, s.explain(name, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%w: %s, not a regular file", ErrFormat, fileKind(st.Mode()))
	}
	return f, st.Size(), nil
}

// explain says why a link was refused: os.Root's "path escapes from
// parent" does not name the rule.
func (s *store) explain(name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return err
	}
	// Find the link on the way to name, for the message.
	p := ""
	for _, part := range strings.Split(name, "/") {
		p = path.Join(p, part)
		if target, rerr := s.root.Readlink(filepath.FromSlash(p)); rerr == nil {
			return fmt.Errorf("%w: %s is a symbolic link to %s, outside the store (links are followed only inside it)", ErrFormat, p, target)
		}
	}
	return err
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	}
	return "a special file"
}

// readMeta returns the contents of the metadata file name, at most
// MaxMetadataBytes.
func (s *store) readMeta(name string) ([]byte, error) {
	f, size, err := s.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tooBig := fmt.Errorf("%w: larger than %d bytes", ErrFormat, MaxMetadataBytes)
	if size > MaxMetadataBytes {
		return nil, tooBig
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxMetadataBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxMetadataBytes { // it grew since Stat
		return nil, tooBig
	}
	return b, nil
}

// present lists the store once and returns the linear (C-order) indices
// of the chunks of a it holds, sorted: each missing chunk then costs
// nothing, not a failed open. Names that are not chunk keys of a are
// ignored, as zarr-python ignores them. Nested keys ("/") are listed
// directory by directory, only into directories named like an index.
func (s *store) present(ctx context.Context, a *Array) ([]int, error) {
	var out []int
	if len(a.shape) == 0 || a.sep == "." {
		err := s.listDir(ctx, ".", func(name string, _ fs.FileMode) error {
			if idx, err := a.ParseChunkKey(name); err == nil {
				out = append(out, ravel(idx, a.grid))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	} else {
		idx := make([]int, len(a.shape))
		var walk func(dir string, level int) error
		walk = func(dir string, level int) error {
			return s.listDir(ctx, dir, func(name string, mode fs.FileMode) error {
				x, ok := parseIndex(name, a.grid[level])
				if !ok {
					return nil
				}
				idx[level] = x
				if level == len(a.shape)-1 {
					out = append(out, ravel(idx, a.grid))
					return nil
				}
				if !mode.IsDir() && mode&fs.ModeSymlink == 0 {
					return nil // a file where a directory of keys belongs is no chunk
				}
				return walk(path.Join(dir, name), level+1)
			})
		}
		if err := walk(".", 0); err != nil {
			return nil, err
		}
	}
	slices.Sort(out)
	return out, nil
}

// listDir calls f for each entry of the store's directory dir, reading it
// in batches so that a huge directory costs little memory, and stops when
// ctx is done.
func (s *store) listDir(ctx context.Context, dir string, f func(name string, mode fs.FileMode) error) error {
	d, err := s.root.Open(filepath.FromSlash(dir))
	if err != nil {
		return s.explain(dir, err)
	}
	defer d.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ents, err := d.ReadDir(4096)
		for _, e := range ents {
			if ferr := f(e.Name(), e.Type()); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// ravel returns the C-order linear index of the grid index idx.
func ravel(idx, grid []int) int {
	k := 0
	for i, x := range idx {
		k = k*grid[i] + x
	}
	return k
}

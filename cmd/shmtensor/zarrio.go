package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/units"
	"github.com/shmtensor/shmtensor/zarr"
)

// fileFormat returns the format export and import give path: "npy",
// "zarr" or "safetensors", from --format or else from its name (a path
// ending in .zarr is a Zarr store, one ending in .safetensors a
// safetensors file, anything else a .npy file).
func fileFormat(path, format string) (string, error) {
	switch format {
	case "npy", "zarr", "safetensors":
		return format, nil
	case "":
		switch {
		case strings.HasSuffix(strings.TrimRight(path, "/"), ".zarr"):
			return "zarr", nil
		case strings.HasSuffix(path, ".safetensors"):
			return "safetensors", nil
		}
		return "npy", nil
	}
	return "", fmt.Errorf("unknown --format %q (want npy, zarr or safetensors)", format)
}

// parseChunks parses --chunks: sizes separated by commas, -1 for a whole
// axis; "" means the default chunks.
func parseChunks(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var chunks []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || (n < 1 && n != -1) {
			return nil, fmt.Errorf("bad --chunks %q: want sizes ≥ 1 (or -1 for a whole axis) separated by commas", s)
		}
		chunks = append(chunks, n)
	}
	return chunks, nil
}

// chunkProgress turns zarr's chunk counts into a progress bar of bytes.
func chunkProgress(label string, a *zarr.Array) (*progress, func(done, total int)) {
	per := int64(a.ChunkBytes())
	p := newProgress(label, per*int64(a.NumChunks()))
	last := 0
	return p, func(done, total int) {
		p.add(int64(done-last) * per)
		last = done
	}
}

// exportZarr writes seg as a Zarr store in dir with the chunks and
// compressor of the options --chunks and --compressor.
func exportZarr(ctx context.Context, seg *shmtensor.Segment, dir, chunkFlag, compFlag string) (*zarr.Array, error) {
	opts, err := zarrOptions(chunkFlag, compFlag)
	if err != nil {
		return nil, err
	}
	opts.Context = ctx
	a, err := zarr.NewArray(seg.DType(), seg.Shape(), opts)
	if err != nil {
		return nil, usagef("%v", err) // chunks that do not fit the shape
	}
	p, progress := chunkProgress("export", a)
	opts.Progress = progress
	err = zarr.Write(dir, seg, opts)
	p.done()
	return a, err
}

// importZarr creates name from the Zarr store in dir.
func importZarr(ctx context.Context, dir, name string, segOpts []shmtensor.Option) (*shmtensor.Segment, error) {
	a, err := zarr.ReadArray(dir)
	if err != nil {
		return nil, err
	}
	p, progress := chunkProgress("import", a)
	seg, err := zarr.Import(dir, name, &zarr.ImportOptions{Segment: segOpts, Progress: progress, Context: ctx})
	p.done()
	return seg, err
}

// runExportZarr is export to a Zarr store.
func runExportZarr(c *Command, name, dir string) error {
	seg, err := openExported(name)
	if err != nil {
		return err
	}
	defer seg.Close()
	if seg.Layout() == shmtensor.Safetensors {
		return fmt.Errorf("%s is a bundle: it exports as a safetensors file (NAME FILE.safetensors), or one tensor as .npy (NAME KEY FILE.npy), not as a Zarr store", seg.Name())
	}
	ctx, stop := interruptContext()
	defer stop()
	a, err := exportZarr(ctx, seg, dir, *exportChunks, *exportCompressor)
	switch {
	case errors.Is(err, context.Canceled):
		c.warn(fmt.Errorf("interrupted; %s not written", dir))
		return exitStatus(130)
	case err != nil:
		return err
	}
	chunks := chunksText(a.NumChunks())
	fmt.Printf("exported %s to %s: %s %s, %s of %s (%s each), compressor %s, data %s, store %s\n",
		seg.Name(), dir, seg.DType(), shmtensor.FormatShape(seg.Shape()), chunks, shmtensor.FormatShape(a.Chunks()),
		units.Bytes(int64(a.ChunkBytes())), a.Compressor(), units.Bytes(int64(len(seg.Bytes()))), units.Bytes(storeBytes(dir)))
	if w := oversizedChunks(seg.Shape(), a.Chunks(), int64(a.ChunkBytes())*int64(a.NumChunks()), int64(len(seg.Bytes()))); w != "" {
		c.warn(errors.New(w))
	}
	return nil
}

// oversizedChunks warns of chunks longer than the array on some axis when
// the chunks hold more than twice the data: Zarr stores whole chunks, so
// the store (uncompressed) and every reader's chunk buffers are that much
// larger than the data.
func oversizedChunks(shape, chunks []int, chunkBytes, data int64) string {
	fits := make([]int, len(shape))
	over := false
	for i := range shape {
		fits[i] = min(chunks[i], max(shape[i], 1))
		over = over || chunks[i] > shape[i]
	}
	if !over || chunkBytes <= 2*data {
		return ""
	}
	parts := make([]string, len(fits))
	for i, f := range fits {
		parts[i] = strconv.Itoa(f)
	}
	return fmt.Sprintf("warning: chunks %s are larger than the array %s: Zarr stores whole chunks, %s of them for %s of data; --chunks %s fits the array",
		shmtensor.FormatShape(chunks), shmtensor.FormatShape(shape), units.Bytes(chunkBytes), units.Bytes(data), strings.Join(parts, ","))
}

// runImportZarr is import from a Zarr store.
func runImportZarr(c *Command, dir, name string) error {
	ctx, stop := interruptContext()
	defer stop()
	_, arrErr := os.Stat(filepath.Join(dir, ".zarray"))
	if _, err := os.Stat(filepath.Join(dir, ".zgroup")); err == nil && arrErr != nil {
		return importZarrGroup(c, ctx, dir, name)
	}
	seg, err := importZarr(ctx, dir, name, importFlags.options())
	switch {
	case errors.Is(err, context.Canceled):
		c.warn(fmt.Errorf("interrupted; nothing was left under %s", canonical(name)))
		return exitStatus(130)
	case err != nil:
		return err
	}
	defer seg.Close()
	fmt.Printf("imported %s into %s: %s %s, data %s, segment %s\n", dir, seg.Name(), seg.DType(),
		shmtensor.FormatShape(seg.Shape()), units.Bytes(int64(len(seg.Bytes()))), units.Bytes(int64(seg.Size())))
	return nil
}

// storeBytes sums the sizes of the files in the store dir.
func storeBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// zarrOptions parses export's --chunks and --compressor.
func zarrOptions(chunkFlag, compFlag string) (*zarr.Options, error) {
	chunks, err := parseChunks(chunkFlag)
	if err != nil {
		return nil, usagef("%v", err)
	}
	comp, err := zarr.ParseCompressor(compFlag)
	if err != nil {
		return nil, usagef("bad --compressor %q: want none, zlib, gzip, zlib:LEVEL or gzip:LEVEL (0-9)", compFlag)
	}
	return &zarr.Options{Chunks: chunks, Compressor: comp}, nil
}

// runExportGroup is export --group: the segments names as the arrays of
// one Zarr group in dir, keyed by their bare names.
func runExportGroup(c *Command, names []string, dir string) error {
	if *exportForce {
		return usagef("--force does not apply to Zarr stores: remove %s first", dir)
	}
	opts, err := zarrOptions(*exportChunks, *exportCompressor)
	if err != nil {
		return err
	}
	var members []zarr.GroupMember
	keys := map[string]bool{}
	for _, name := range names {
		seg, err := openExported(name)
		if err != nil {
			return err
		}
		defer seg.Close()
		if seg.Layout() == shmtensor.Safetensors {
			return fmt.Errorf("%s is a bundle: export its tensors as .npy files (NAME KEY FILE.npy) or the bundle as a safetensors file", seg.Name())
		}
		key := groupKey(name)
		if keys[key] {
			return usagef("two segments would both be the array %q of the group", key)
		}
		keys[key] = true
		dims, given := exportDims[key]
		if !given {
			dims = exportDims[name]
		}
		members = append(members, zarr.GroupMember{Name: key, Segment: seg, Dims: dims})
	}
	for k := range exportDims {
		if !keys[k] && !slices.Contains(names, k) {
			return usagef("--dims names %q, which is not one of the arrays (%s)", k, strings.Join(slices.Sorted(maps.Keys(keys)), ", "))
		}
	}
	ctx, stop := interruptContext()
	defer stop()
	opts.Context = ctx
	err = zarr.WriteGroup(dir, members, opts)
	switch {
	case errors.Is(err, context.Canceled):
		c.warn(fmt.Errorf("interrupted; %s not written", dir))
		return exitStatus(130)
	case err != nil:
		return err
	}
	fmt.Printf("exported %d segments to the Zarr group %s (xarray.open_zarr opens it; store %s):\n", len(members), dir, units.Bytes(storeBytes(dir)))
	for _, m := range members {
		a, err := zarr.ReadArray(filepath.Join(dir, m.Name))
		if err != nil {
			return err
		}
		fmt.Printf("  %s: %s %s, dimensions (%s), %s of %s\n", m.Name, m.Segment.DType(), shmtensor.FormatShape(m.Segment.Shape()),
			strings.Join(arrayDims(filepath.Join(dir, m.Name)), ", "), chunksText(a.NumChunks()), shmtensor.FormatShape(a.Chunks()))
	}
	return nil
}

// groupKey is the array name of the segment name in a group: its bare
// name, without a directory or a .npy suffix.
func groupKey(name string) string {
	if p, ok := strings.CutPrefix(name, "file://"); ok {
		return strings.TrimSuffix(filepath.Base(p), ".npy")
	}
	return strings.TrimPrefix(name, "shm://")
}

// arrayDims reads the dimension names WriteGroup gave the array in dir.
func arrayDims(dir string) []string {
	var attrs struct {
		Dims []string `json:"_ARRAY_DIMENSIONS"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, ".zattrs"))
	json.Unmarshal(b, &attrs)
	return attrs.Dims
}

// chunksText is "1 chunk", "12 chunks".
func chunksText(n int) string {
	if n == 1 {
		return "1 chunk"
	}
	return fmt.Sprintf("%d chunks", n)
}

// importZarrGroup imports each array directly inside the group dir into
// the segment PREFIX.ARRAY (prefix being the NAME given), all or none: a
// failure removes the segments already made.
func importZarrGroup(c *Command, ctx context.Context, dir, prefix string) error {
	var arrays []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), ".zarray")); err == nil && e.IsDir() {
			arrays = append(arrays, e.Name())
		}
	}
	if len(arrays) == 0 {
		return fmt.Errorf("%s is a Zarr group with no arrays directly in it; import an array of it by its path", dir)
	}
	var made []*shmtensor.Segment
	undo := func() {
		for _, s := range made {
			s.Close()
			shmtensor.Delete(s.Name())
		}
	}
	for _, a := range arrays {
		seg, err := importZarr(ctx, filepath.Join(dir, a), prefix+"."+a, importFlags.options())
		if errors.Is(err, context.Canceled) {
			undo()
			c.warn(fmt.Errorf("interrupted; no segment of the group was left"))
			return exitStatus(130)
		}
		if err != nil {
			undo()
			var se *shmtensor.Error // the segment's side says it all
			if errors.As(err, &se) {
				err = se
			}
			return fmt.Errorf("array %s of the group (no segment of the group was left): %w", a, err)
		}
		made = append(made, seg)
	}
	fmt.Printf("imported the Zarr group %s: %d arrays into %s.*\n", dir, len(made), canonical(prefix))
	for i, seg := range made {
		fmt.Printf("  %s → %s: %s %s, data %s\n", arrays[i], seg.Name(), seg.DType(), shmtensor.FormatShape(seg.Shape()), units.Bytes(int64(len(seg.Bytes()))))
		seg.Close()
	}
	return nil
}

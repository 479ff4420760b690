package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
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
	chunks, err := parseChunks(chunkFlag)
	if err != nil {
		return nil, usagef("%v", err)
	}
	comp, err := zarr.ParseCompressor(compFlag)
	if err != nil {
		return nil, usagef("bad --compressor %q: want none, zlib, gzip, zlib:LEVEL or gzip:LEVEL (0-9)", compFlag)
	}
	opts := &zarr.Options{Chunks: chunks, Compressor: comp, Context: ctx}
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
	chunks := fmt.Sprintf("%d chunks", a.NumChunks())
	if a.NumChunks() == 1 {
		chunks = "1 chunk"
	}
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

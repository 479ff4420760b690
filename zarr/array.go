package zarr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/bits"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/shmtensor/shmtensor"
)

// DefaultChunkBytes is the size Write aims for when Options.Chunks is nil:
// large enough that per-chunk costs (a file, an HTTP request, a Dask task)
// are small against the data, small enough that a Dask worker holds many.
const DefaultChunkBytes = 4 << 20

// MaxChunkBytes bounds the uncompressed size of one chunk, in writing and
// reading: numcodecs' codecs refuse buffers over 2 GiB, and a chunk is held
// in memory whole.
const MaxChunkBytes = 1 << 31

// rewriteHint says what a refused compressor's store can become.
const rewriteHint = `this package reads zlib, gzip or none; to rewrite the store with zlib in zarr-python: a = zarr.open("SRC", mode="r"); zarr.save_array("DST", a[...], chunks=a.chunks, compressor=numcodecs.Zlib())`

// Compressor names a Zarr v2 compressor as .zarray spells it
// ({"id": "zlib", "level": 1}). The zero value means no compressor.
type Compressor struct {
	ID    string // "zlib" (RFC 1950, numcodecs.Zlib), "gzip" (RFC 1952, numcodecs.GZip) or "" for none
	Level int    // 0 (store) to 9 (best); numcodecs' default is 1
}

// Zlib returns the zlib compressor at level (0–9), as numcodecs.Zlib(level).
func Zlib(level int) Compressor { return Compressor{ID: "zlib", Level: level} }

// Gzip returns the gzip compressor at level (0–9), as numcodecs.GZip(level).
func Gzip(level int) Compressor { return Compressor{ID: "gzip", Level: level} }

// ParseCompressor parses "none", "zlib", "gzip", "zlib:LEVEL" or
// "gzip:LEVEL"; without a level it is 1, numcodecs' default.
func ParseCompressor(s string) (Compressor, error) {
	id, lv, hasLevel := strings.Cut(s, ":")
	c := Compressor{ID: id, Level: 1}
	if hasLevel {
		n, err := strconv.Atoi(lv)
		if err != nil {
			return Compressor{}, fmt.Errorf("%w: compressor level %q is not a number", ErrCodec, lv)
		}
		c.Level = n
	}
	if id == "none" || id == "" {
		if hasLevel {
			return Compressor{}, fmt.Errorf("%w: compressor %q takes no level", ErrCodec, s)
		}
		return Compressor{}, nil
	}
	return c, c.check()
}

func (c Compressor) String() string {
	if c.ID == "" {
		return "none"
	}
	return c.ID + ":" + strconv.Itoa(c.Level)
}

func (c Compressor) check() error {
	switch c.ID {
	case "":
		return nil
	case "zlib", "gzip":
		if c.Level < 0 || c.Level > 9 {
			return fmt.Errorf("%w: %s level %d is outside 0–9", ErrCodec, c.ID, c.Level)
		}
		return nil
	}
	return fmt.Errorf("%w: compressor %q (this package reads and writes zlib, gzip or none)", ErrCodec, c.ID)
}

// Array is the metadata of a Zarr v2 array, the contents of its .zarray
// file, plus what follows from it: the chunk grid, chunk keys and sizes.
// NewArray makes one for a tensor, ReadArray reads one from a store. An
// Array is immutable and safe for concurrent use.
type Array struct {
	shape, chunks, grid []int
	dtype               shmtensor.DType
	bigEndian           bool
	fortran             bool
	comp                Compressor
	fillRaw             json.RawMessage
	fill                []byte // one element, host byte order
	sep                 string
	chunkBytes          int
	numChunks           int
}

// NewArray returns the layout Write gives a tensor of type dt and shape,
// with chunks, compressor and dimension separator from opts (nil for the
// defaults). It is C-ordered, little-endian, with fill value zero (null
// with NoFillValue) and no filters.
func NewArray(dt shmtensor.DType, shape []int, opts *Options) (*Array, error) {
	if opts == nil {
		opts = &Options{}
	}
	if err := opts.Compressor.check(); err != nil {
		return nil, err
	}
	if dt.Size() == 0 {
		return nil, fmt.Errorf("%w: %v", shmtensor.ErrDType, dt)
	}
	sep := opts.DimensionSeparator
	if sep == "" {
		sep = "."
	}
	if sep != "." && sep != "/" {
		return nil, fmt.Errorf("%w: dimension separator %q (want \".\" or \"/\")", ErrFormat, sep)
	}
	var chunks []int
	if opts.Chunks == nil {
		chunks = defaultChunks(shape, dt.Size())
	} else {
		if len(opts.Chunks) != len(shape) {
			return nil, fmt.Errorf("%w: %d chunk sizes for %d dimensions", shmtensor.ErrShape, len(opts.Chunks), len(shape))
		}
		chunks = make([]int, len(shape))
		for i, c := range opts.Chunks {
			switch {
			case c == -1:
				c = max(shape[i], 1)
			case c < 1:
				return nil, fmt.Errorf("%w: chunk size %d on axis %d (want ≥ 1, or -1 for the whole axis)", shmtensor.ErrShape, c, i)
			}
			chunks[i] = c
		}
	}
	a := &Array{shape: slices.Clone(shape), chunks: chunks, dtype: dt, comp: opts.Compressor,
		fillRaw: zeroFill(dt), fill: make([]byte, dt.Size()), sep: sep}
	if opts.NoFillValue {
		a.fillRaw = json.RawMessage("null")
	}
	if err := a.init(); err != nil {
		return nil, err
	}
	return a, nil
}

// defaultChunks halves the leading chunk dimension until a chunk holds at
// most DefaultChunkBytes or that dimension is 1, then the next one, and so
// on. Chunks of whole trailing dimensions are contiguous in a C-ordered
// tensor, so Write stores them straight from its memory without a copy,
// and each is one long run for whoever reads it.
func defaultChunks(shape []int, elem int) []int {
	c := make([]int, len(shape))
	n := elem
	for i, d := range shape {
		c[i] = max(d, 1)
		n = satMul(n, c[i])
	}
	for i := range c {
		for n > DefaultChunkBytes && c[i] > 1 {
			c[i] -= c[i] / 2 // half, rounded up, without overflowing at math.MaxInt
			n = elem
			for _, d := range c {
				n = satMul(n, d)
			}
		}
	}
	return c
}

// satMul multiplies non-negative ints, saturating at math.MaxInt.
func satMul(a, b int) int {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt {
		return math.MaxInt
	}
	return int(lo)
}

// init checks shape and chunks and derives the grid and sizes.
func (a *Array) init() error {
	if len(a.shape) > shmtensor.MaxDims {
		return fmt.Errorf("%w: %d dimensions (at most %d)", shmtensor.ErrShape, len(a.shape), shmtensor.MaxDims)
	}
	if len(a.chunks) != len(a.shape) {
		return fmt.Errorf("%w: %d chunk sizes for %d dimensions", ErrFormat, len(a.chunks), len(a.shape))
	}
	a.grid = make([]int, len(a.shape))
	cb, n := a.dtype.Size(), 1
	for i, d := range a.shape {
		c := a.chunks[i]
		if d < 0 || c < 1 {
			return fmt.Errorf("%w: shape %v with chunks %v", shmtensor.ErrShape, a.shape, a.chunks)
		}
		a.grid[i] = d / c
		if d%c != 0 { // rounded up without d+c-1, which overflows for huge d
			a.grid[i]++
		}
		cb = satMul(cb, c)
		n = satMul(n, a.grid[i])
	}
	if int64(cb) > MaxChunkBytes {
		return fmt.Errorf("%w: chunks %v of %s are %d bytes (at most %d)", shmtensor.ErrShape, a.chunks, a.dtype, cb, int64(MaxChunkBytes))
	}
	if n == math.MaxInt {
		return fmt.Errorf("%w: shape %v with chunks %v makes too many chunks", shmtensor.ErrShape, a.shape, a.chunks)
	}
	a.chunkBytes, a.numChunks = cb, n
	return nil
}

// Shape returns a copy of the array's shape.
func (a *Array) Shape() []int { return slices.Clone(a.shape) }

// Chunks returns a copy of the chunk shape.
func (a *Array) Chunks() []int { return slices.Clone(a.chunks) }

// Grid returns the number of chunks along each axis.
func (a *Array) Grid() []int { return slices.Clone(a.grid) }

// NumChunks returns the number of chunks: 1 for a 0-d array, 0 for an
// empty one.
func (a *Array) NumChunks() int { return a.numChunks }

// ChunkBytes returns the uncompressed size of every chunk, edge chunks
// included (they are stored full-size, padded with the fill value).
func (a *Array) ChunkBytes() int { return a.chunkBytes }

// DType returns the element type.
func (a *Array) DType() shmtensor.DType { return a.dtype }

// Compressor returns the compressor; the zero Compressor means none.
func (a *Array) Compressor() Compressor { return a.comp }

// Fortran reports whether elements within a chunk are in column-major
// order ("order": "F").
func (a *Array) Fortran() bool { return a.fortran }

// DimensionSeparator returns "." or "/", the separator of chunk keys.
func (a *Array) DimensionSeparator() string { return a.sep }

// ChunkKey returns the key of the chunk at grid index idx: "0.1.2", or
// "0/1/2" with the "/" separator; "0" for a 0-d array.
func (a *Array) ChunkKey(idx []int) string {
	if len(a.shape) == 0 {
		return "0"
	}
	var b strings.Builder
	for i, x := range idx {
		if i > 0 {
			b.WriteString(a.sep)
		}
		b.WriteString(strconv.Itoa(x))
	}
	return b.String()
}

// ParseChunkKey returns the grid index of key, or an error wrapping
// ErrChunkKey unless key is a canonical key (decimal, no sign, no leading
// zeros, the array's separator) of a chunk inside the grid.
func (a *Array) ParseChunkKey(key string) ([]int, error) {
	if len(a.shape) == 0 {
		if key != "0" {
			return nil, fmt.Errorf("%w: %q (a 0-d array has the one chunk \"0\")", ErrChunkKey, key)
		}
		return []int{}, nil
	}
	parts := strings.Split(key, a.sep)
	if len(parts) != len(a.shape) {
		return nil, fmt.Errorf("%w: %q has %d indices for %d dimensions", ErrChunkKey, key, len(parts), len(a.shape))
	}
	idx := make([]int, len(parts))
	for i, p := range parts {
		if !canonicalIndex(p) {
			return nil, fmt.Errorf("%w: %q", ErrChunkKey, key)
		}
		n, ok := parseIndex(p, a.grid[i])
		if !ok {
			return nil, fmt.Errorf("%w: %q is outside the chunk grid %v", ErrChunkKey, key, a.grid)
		}
		idx[i] = n
	}
	return idx, nil
}

// canonicalIndex reports whether p is a chunk index as zarr-python
// spells it: decimal digits, no sign, no leading zeros.
func canonicalIndex(p string) bool {
	return p != "" && len(p) <= 19 && (len(p) == 1 || p[0] != '0') && strings.Trim(p, "0123456789") == ""
}

// parseIndex returns the canonical index p if it is below n.
func parseIndex(p string, n int) (int, bool) {
	if !canonicalIndex(p) {
		return 0, false
	}
	x, err := strconv.Atoi(p)
	return x, err == nil && x < n
}

// chunkPath returns the file of chunk key under dir.
func (a *Array) chunkPath(dir, key string) string {
	if a.sep == "/" {
		return filepath.Join(dir, filepath.FromSlash(key))
	}
	return filepath.Join(dir, key)
}

// region returns the part of the array chunk idx covers: its start and
// extent along each axis (the extent is short at the far edges).
func (a *Array) region(idx []int) (start, n []int) {
	start, n = make([]int, len(idx)), make([]int, len(idx))
	for i, x := range idx {
		start[i] = x * a.chunks[i]
		n[i] = min(a.chunks[i], a.shape[i]-start[i])
	}
	return start, n
}

// zarray is .zarray's JSON, fields in the order zarr-python writes them
// (sorted).
type zarray struct {
	Chunks     []int           `json:"chunks"`
	Compressor json.RawMessage `json:"compressor"`
	DimSep     *string         `json:"dimension_separator,omitempty"`
	DType      json.RawMessage `json:"dtype"`
	FillValue  json.RawMessage `json:"fill_value"`
	Filters    json.RawMessage `json:"filters"`
	Order      string          `json:"order"`
	Shape      []int           `json:"shape"`
	ZarrFormat int             `json:"zarr_format"`
}

// MarshalJSON returns the .zarray document of a, indented like
// zarr-python's.
func (a *Array) MarshalJSON() ([]byte, error) {
	comp := json.RawMessage("null")
	if a.comp.ID != "" {
		comp, _ = json.Marshal(struct {
			ID    string `json:"id"`
			Level int    `json:"level"`
		}{a.comp.ID, a.comp.Level})
	}
	descr := a.dtype.Descr()
	if a.bigEndian {
		descr = ">" + descr[1:]
	}
	dt, _ := json.Marshal(descr)
	order := "C"
	if a.fortran {
		order = "F"
	}
	var sep *string // zarr-python writes the key only when it is not the default
	if a.sep != "." {
		sep = &a.sep
	}
	z := zarray{Chunks: a.chunks, Compressor: comp, DimSep: sep, DType: dt, FillValue: a.fillRaw,
		Filters: json.RawMessage("null"), Order: order, Shape: a.shape, ZarrFormat: 2}
	b, err := json.MarshalIndent(z, "", "    ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ReadArray reads and checks the .zarray file of the store at dir. It
// reads at most MaxMetadataBytes, and only a regular file inside the store
// (see Import).
func ReadArray(dir string) (*Array, error) {
	s, err := openStore(dir)
	if err != nil {
		return nil, &Error{Op: "read", Path: dir, Err: err}
	}
	defer s.Close()
	return readArray(s)
}

func readArray(s *store) (*Array, error) {
	b, err := s.readMeta(".zarray")
	if err != nil {
		path := filepath.Join(s.dir, ".zarray")
		if errors.Is(err, fs.ErrNotExist) {
			path = s.dir
			// Say what is wrong in Zarr terms: a group, or not a store.
			if _, gerr := s.root.Lstat(".zgroup"); gerr == nil {
				err = fmt.Errorf("%w: %s is a Zarr group, not an array (import one of its arrays)", ErrFormat, s.dir)
			} else {
				err = fmt.Errorf("%w: no .zarray in %s: %w", ErrFormat, s.dir, err)
			}
		}
		return nil, &Error{Op: "read", Path: path, Err: err}
	}
	a, err := ParseArray(b)
	if err != nil {
		return nil, &Error{Op: "read", Path: filepath.Join(s.dir, ".zarray"), Err: err}
	}
	return a, nil
}

// ParseArray parses a .zarray document. Zarr features this package does
// not implement (compressors other than zlib and gzip, filters, structured
// or string dtypes) are refused with an error naming them.
func ParseArray(data []byte) (*Array, error) {
	var z zarray
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&z); err != nil {
		return nil, fmt.Errorf("%w: .zarray: %v", ErrFormat, err)
	}
	// json.loads, as zarr-python reads it, refuses anything after the
	// document but white space.
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: .zarray: data after the JSON document at byte %d", ErrFormat, dec.InputOffset())
	}
	if z.ZarrFormat != 2 {
		return nil, fmt.Errorf("%w: zarr_format %d (this package reads version 2)", ErrFormat, z.ZarrFormat)
	}
	if z.Shape == nil || z.Chunks == nil {
		return nil, fmt.Errorf("%w: .zarray lacks shape or chunks", ErrFormat)
	}
	a := &Array{shape: z.Shape, chunks: z.Chunks, fillRaw: z.FillValue}

	var descr string
	if err := json.Unmarshal(z.DType, &descr); err != nil {
		return nil, fmt.Errorf("%w: dtype %s (structured dtypes are not supported)", shmtensor.ErrDType, z.DType)
	}
	le := descr
	if strings.HasPrefix(descr, ">") {
		a.bigEndian = true
		le = "<" + descr[1:]
	}
	dt, err := shmtensor.ParseDType(le)
	if err != nil || !strings.ContainsAny(descr[:min(1, len(descr))], "<>|") {
		return nil, fmt.Errorf("%w: dtype %q (this package reads bool, integers, float16/32/64 and complex64/128)", shmtensor.ErrDType, descr)
	}
	a.dtype = dt
	if dt.Size() == 1 {
		a.bigEndian = false
	}

	switch z.Order {
	case "C":
	case "F":
		a.fortran = true
	default:
		return nil, fmt.Errorf("%w: order %q", ErrFormat, z.Order)
	}
	// Absent or null means "."; zarr-python refuses anything else but
	// "/", the empty string too.
	switch {
	case z.DimSep == nil || *z.DimSep == ".":
		a.sep = "."
	case *z.DimSep == "/":
		a.sep = "/"
	default:
		return nil, fmt.Errorf("%w: dimension_separator %q (want \".\" or \"/\")", ErrFormat, *z.DimSep)
	}
	if f := bytes.TrimSpace(z.Filters); len(f) > 0 && string(f) != "null" && string(f) != "[]" {
		var fs []struct {
			ID string `json:"id"`
		}
		json.Unmarshal(f, &fs)
		var ids []string
		for _, x := range fs {
			ids = append(ids, strconv.Quote(x.ID))
		}
		return nil, fmt.Errorf("%w: filters %s (this package reads arrays without filters)", ErrCodec, strings.Join(ids, ", "))
	}
	if c := bytes.TrimSpace(z.Compressor); len(c) > 0 && string(c) != "null" {
		var cj struct {
			ID    string `json:"id"`
			Level *int   `json:"level"`
		}
		if err := json.Unmarshal(c, &cj); err != nil {
			return nil, fmt.Errorf("%w: compressor %s", ErrFormat, c)
		}
		a.comp = Compressor{ID: cj.ID, Level: 1}
		if cj.Level != nil {
			a.comp.Level = *cj.Level
		}
		if cj.ID != "zlib" && cj.ID != "gzip" {
			return nil, fmt.Errorf("%w: compressor %q (%s)", ErrCodec, cj.ID, rewriteHint)
		}
		// The level matters only to the writer; a reader takes any.
	}
	if a.fill, err = decodeFill(z.FillValue, dt); err != nil {
		return nil, err
	}
	if err := a.init(); err != nil {
		return nil, err
	}
	return a, nil
}

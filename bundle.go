package shmtensor

import (
	"fmt"
	"io"
	"iter"
	"maps"
	"slices"
	"unsafe"

	"github.com/shmtensor/shmtensor/internal/codec"
	"github.com/shmtensor/shmtensor/internal/strided"
	"github.com/shmtensor/shmtensor/internal/sys"
)

// A bundle is one segment holding many named tensors of any element types
// and shapes, and string metadata: a safetensors file, so every
// safetensors reader opens a live bundle in place (docs/formats.md,
// "Bundles"). The header is padded with spaces so the data starts at a
// page, and the tensors are ordered by decreasing element size, so each
// starts at a multiple of its own: every view is aligned. A bundle is made,
// filled, and published or replaced as one version with the Publish,
// Replace, Wait and WaitReplaced of segments; AttachBundle maps it with one
// descriptor and one mapping.

// Bundle is an attached (or new) bundle.
type Bundle struct {
	seg     *Segment
	st      codec.STHeader
	index   map[string]int // into st.Tensors
	meta    map[string]string
	tensors []BundleTensor
}

// TensorSpec names a tensor of a new bundle: its name (any non-empty
// UTF-8 string but "__metadata__"), element type and shape.
type TensorSpec struct {
	Name  string
	DType DType
	Shape []int
}

// BundleTensor describes a tensor of a bundle.
type BundleTensor struct {
	Name  string
	DType DType
	Shape []int
	// Offset is the byte offset of its first element in the file; Size
	// its bytes.
	Offset, Size int64
}

// Metadata sets the string metadata of a bundle made by CreateBundle
// (safetensors' "__metadata__").
func Metadata(m map[string]string) Option {
	return func(o *options) { o.metadata = maps.Clone(m) }
}

// CreateBundle makes a new bundle of zeroed tensors, as Create makes a
// segment: exclusive, atomic, with the options of Create (Unpublished to
// fill it before Publish or Replace, Mode, Lazy, Populate, HugePages) and
// Metadata. Element types are those of safetensors: every Number but
// complex128 (safetensors has no such type; complex64 is its C64), Bool,
// Float16, BFloat16, Float8E4M3 and Float8E5M2.
func CreateBundle(name string, specs []TensorSpec, opts ...Option) (*Bundle, error) {
	const op = "create-bundle"
	o := buildOptions(opts)
	ss := make([]codec.STSpec, len(specs))
	for i, s := range specs {
		ss[i] = codec.STSpec{Name: s.Name, DType: codec.DType(s.DType), Shape: s.Shape}
	}
	hdr, st, err := codec.LayoutBundle(ss, o.metadata, codec.NPYDataOffset)
	if err != nil {
		return nil, &Error{Op: op, Name: name, Err: err}
	}
	set := func(o *options) { o.bundle, o.bundleHeader, o.layout = &st, hdr, Safetensors }
	seg, err := newSegment(op, name, Uint8, nil, false, append(slices.Clip(opts), set), nil)
	if err != nil {
		return nil, err
	}
	return newBundle(seg, st), nil
}

// AttachBundle maps an existing bundle, read-write (or read-only with
// ReadOnly), with one descriptor and one mapping, and validates its header
// as strictly as Attach validates a segment's. A segment that is not a
// bundle is refused with ErrNotTensor.
func AttachBundle(name string, opts ...Option) (*Bundle, error) {
	const op = "attach-bundle"
	seg, err := openSegment(op, name, opts)
	if err != nil {
		return nil, err
	}
	b, err := bundleOf(seg)
	if err != nil {
		seg.Close()
		return nil, &Error{Op: op, Name: seg.name, Err: err}
	}
	return b, nil
}

// bundleOf parses the header of a mapped bundle segment.
func bundleOf(seg *Segment) (*Bundle, error) {
	if seg.hdr.Layout != codec.Safetensors {
		return nil, fmt.Errorf("%w: a %v segment of one tensor, not a bundle", ErrNotTensor, Layout(seg.hdr.Layout))
	}
	// The codec validated the header against the file's size, which is
	// the mapping's: whatever the header bytes say now, views made from
	// what was validated stay within the mapping.
	st := *seg.hdr.Bundle
	return newBundle(seg, st), nil
}

func newBundle(seg *Segment, st codec.STHeader) *Bundle {
	b := &Bundle{seg: seg, st: st, index: st.Index, meta: st.Metadata}
	if b.index == nil { // a header laid out here, not parsed
		b.index = make(map[string]int, len(st.Tensors))
		for i, t := range st.Tensors {
			b.index[t.Name] = i
		}
	}
	b.tensors = make([]BundleTensor, len(st.Tensors))
	for i, t := range st.Tensors {
		b.tensors[i] = BundleTensor{Name: t.Name, DType: DType(t.DType), Shape: t.Shape, Offset: st.DataOff + t.Begin, Size: t.End - t.Begin}
	}
	return b
}

// Name returns the bundle's name with its scheme.
func (b *Bundle) Name() string { return b.seg.name }

// Segment returns the segment holding the bundle: Publish, Replace, Msync,
// the locks and Close apply to the bundle as a whole.
func (b *Bundle) Segment() *Segment { return b.seg }

// Publish gives an Unpublished bundle its name; see Segment.Publish.
func (b *Bundle) Publish() error { return b.seg.Publish() }

// Replace puts the bundle under its name in place of the one there, as
// one version; see Segment.Replace.
func (b *Bundle) Replace() error { return b.seg.Replace() }

// Close unmaps the bundle; every view of it becomes invalid.
func (b *Bundle) Close() error { return b.seg.Close() }

// Len returns the number of tensors.
func (b *Bundle) Len() int { return len(b.tensors) }

// Tensors returns the bundle's tensors in the order of their data.
func (b *Bundle) Tensors() iter.Seq[BundleTensor] {
	return func(yield func(BundleTensor) bool) {
		for _, t := range b.tensors {
			t.Shape = slices.Clone(t.Shape)
			if !yield(t) {
				return
			}
		}
	}
}

// Lookup describes the tensor named key.
func (b *Bundle) Lookup(key string) (BundleTensor, bool) {
	i, ok := b.index[key]
	if !ok {
		return BundleTensor{}, false
	}
	t := b.tensors[i]
	t.Shape = slices.Clone(t.Shape)
	return t, true
}

// Metadata returns a copy of the bundle's string metadata.
func (b *Bundle) Metadata() map[string]string { return maps.Clone(b.meta) }

// find returns the tensor named key, or an error naming it.
func (b *Bundle) find(op, key string) (*BundleTensor, error) {
	if b.seg.closed.Load() {
		return nil, &Error{Op: op, Name: b.seg.name, Err: ErrClosed}
	}
	i, ok := b.index[key]
	if !ok {
		return nil, &Error{Op: op, Name: b.seg.name, Err: fmt.Errorf("%w: no tensor %q in the bundle (it holds %d)", ErrNotExist, key, len(b.tensors))}
	}
	return &b.tensors[i], nil
}

// Bytes returns the bytes of the tensor named key, aliasing the mapping:
// the way to read tensors of types no Number holds (bool, float16,
// bfloat16, 8-bit floats).
func (b *Bundle) Bytes(key string) ([]byte, error) {
	t, err := b.find("bytes", key)
	if err != nil {
		return nil, err
	}
	return b.seg.mem[t.Offset : t.Offset+t.Size : t.Offset+t.Size], nil
}

// BundleView returns the tensor named key of b as a zero-copy tensor of
// T. It fails with ErrDType unless T is the tensor's element type (a
// float16 or bfloat16 tensor is also viewable as uint16, an 8-bit float
// one as uint8), and with ErrNotExist, naming the key, if b has none.
func BundleView[T Number](b *Bundle, key string) (*Tensor[T], error) {
	t, err := b.find("view", key)
	if err != nil {
		return nil, err
	}
	want := DTypeOf[T]()
	if !viewableAs(t.DType, want) {
		return nil, &Error{Op: "view", Name: b.seg.name, Err: fmt.Errorf("%w: tensor %q holds %v, want %v", ErrDType, key, t.DType, want)}
	}
	n := int(t.Size) / want.Size()
	var data []T
	if n > 0 {
		// The layout aligns every tensor at a multiple of its element
		// size from a page; a foreign file may not.
		p := unsafe.Pointer(&b.seg.mem[t.Offset])
		var z T
		if uintptr(p)%unsafe.Alignof(z) != 0 {
			return nil, &Error{Op: "view", Name: b.seg.name, Err: fmt.Errorf("%w: tensor %q at byte %d is not aligned for %v", ErrNotContiguous, key, t.Offset, want)}
		}
		data = unsafe.Slice((*T)(p), n)
	}
	// The shape and its strides in one allocation.
	nd := len(t.Shape)
	dims := make([]int, 2*nd)
	shape, strides := dims[:nd:nd], dims[nd:]
	copy(shape, t.Shape)
	strided.PutCStrides(strides, shape)
	return newTensor(data, 0, shape, strides, b.seg, b.seg.readOnly), nil
}

// viewableAs reports whether a tensor of element type have can be viewed
// as want: the same type, or raw bits of the same width for the types no
// Number holds.
func viewableAs(have, want DType) bool {
	switch have {
	case Float16, BFloat16:
		return want == have || want == Uint16
	case Float8E4M3, Float8E5M2, Bool:
		return want == have || want == Uint8
	}
	return want == have
}

// BundleInfo describes a bundle without mapping it.
type BundleInfo struct {
	Name     string
	Tensors  []BundleTensor // in the order of their data
	Metadata map[string]string
	Size     int64
	ID       FileID
}

// StatBundle reads the header of the bundle name, without mapping its
// data.
func StatBundle(name string) (BundleInfo, error) {
	const op = "stat-bundle"
	n, err := parseName(name)
	if err != nil {
		return BundleInfo{}, &Error{Op: op, Name: name, Err: err}
	}
	f, err := openFile(n, false)
	if err != nil {
		return BundleInfo{}, &Error{Op: op, Name: n.name, Err: err}
	}
	defer f.close()
	st, err := codec.ReadSafetensors(f, f.size)
	if err != nil {
		return BundleInfo{}, &Error{Op: op, Name: n.name, Err: err}
	}
	b := newBundle(&Segment{}, st)
	return BundleInfo{Name: n.name, Tensors: b.tensors, Metadata: st.Metadata, Size: f.size, ID: f.id}, nil
}

// WriteTo writes the bundle to w as a safetensors file (the bundle's own
// bytes: it is one), moving them inside the kernel when w is a regular
// file, and implements io.WriterTo.
func (b *Bundle) WriteTo(w io.Writer) (int64, error) {
	if b.seg.closed.Load() {
		return 0, &Error{Op: "write", Name: b.seg.name, Err: ErrClosed}
	}
	all := b.seg.mem
	n, handled, err := sys.SendData(w, b.seg.fd, 0, all, splitParts)
	if !handled {
		var k int
		k, err = w.Write(all)
		n = int64(k)
	}
	if err != nil {
		return n, &Error{Op: "write", Name: b.seg.name, Err: err}
	}
	return n, nil
}

// ImportBundle makes a new bundle from a safetensors stream, such as a
// file written by Hugging Face's library (whose header length is often
// odd, so its tensors are misaligned): the tensors are laid out aligned,
// with the stream's metadata, and their bytes copied in; from a regular
// file, inside the kernel. Options are those of CreateBundle.
func ImportBundle(name string, r io.Reader, opts ...Option) (*Bundle, error) {
	const op = "import-bundle"
	in, err := codec.ReadSTStream(r)
	if err != nil {
		return nil, &Error{Op: op, Name: name, Err: err}
	}
	ss := make([]codec.STSpec, len(in.Tensors))
	for i, t := range in.Tensors {
		ss[i] = codec.STSpec{Name: t.Name, DType: t.DType, Shape: t.Shape}
	}
	meta := in.Metadata
	if o := buildOptions(opts); o.metadata != nil {
		meta = o.metadata
	}
	hdr, st, err := codec.LayoutBundle(ss, meta, codec.NPYDataOffset)
	if err != nil {
		return nil, &Error{Op: op, Name: name, Err: err}
	}
	at := make(map[string]codec.STTensor, len(st.Tensors))
	for _, t := range st.Tensors {
		at[t.Name] = t
	}
	fill := func(fd int, off int64, data []byte) error {
		// In the stream's order, each tensor to its place in ours.
		for _, t := range in.Tensors {
			dst := at[t.Name]
			part := data[dst.Begin:dst.End:dst.End]
			if len(part) == 0 {
				continue
			}
			k, handled, err := sys.ReceiveData(r, fd, off+dst.Begin, part, splitParts)
			got := int(k)
			if handled && err == nil && got < len(part) {
				err = io.ErrUnexpectedEOF
			}
			if !handled {
				got, err = io.ReadFull(r, part)
			}
			switch {
			case err == io.EOF || err == io.ErrUnexpectedEOF:
				return fmt.Errorf("%w: truncated: the stream ended in tensor %q, after %d of its %d bytes: %w", ErrNotTensor, t.Name, got, len(part), io.ErrUnexpectedEOF)
			case err != nil:
				return fmt.Errorf("read tensor %q: %w", t.Name, err)
			}
		}
		return nil
	}
	set := func(o *options) { o.bundle, o.bundleHeader, o.layout = &st, hdr, Safetensors }
	seg, err := newSegment(op, name, Uint8, nil, false, append(slices.Clip(opts), set), fill)
	if err != nil {
		return nil, err
	}
	return newBundle(seg, st), nil
}

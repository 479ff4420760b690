package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/codec"
	"github.com/shmtensor/shmtensor/internal/numpytest"
)

// stTensor is a tensor of a safetensors file written by hand.
type stTensor struct {
	name, dtype string
	shape       []int
	data        []byte
}

// safetensorsFile writes a safetensors file as Hugging Face's library
// does: the JSON header unpadded, here made of odd length, so every
// tensor after it is misaligned.
func safetensorsFile(t *testing.T, ts []stTensor, meta map[string]string) (path string, hdrLen int) {
	t.Helper()
	var h bytes.Buffer
	h.WriteString("{")
	if meta != nil {
		m, _ := json.Marshal(meta)
		fmt.Fprintf(&h, `"__metadata__":%s`, m)
	}
	var data []byte
	for i, x := range ts {
		if i > 0 || meta != nil {
			h.WriteString(",")
		}
		k, _ := json.Marshal(x.name)
		s, _ := json.Marshal(x.shape)
		fmt.Fprintf(&h, `%s:{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}`, k, x.dtype, s, len(data), len(data)+len(x.data))
		data = append(data, x.data...)
	}
	h.WriteString("}")
	if h.Len()%2 == 0 {
		h.WriteString(" ")
	}
	var file []byte
	file = binary.LittleEndian.AppendUint64(file, uint64(h.Len()))
	file = append(file, h.Bytes()...)
	file = append(file, data...)
	path = filepath.Join(t.TempDir(), "model.safetensors")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, h.Len()
}

func f32s(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func i64s(vs ...int64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	return b
}

// bundleFixture is the hand-written file of the bundle tests: six tensors
// of five element types, one key with slashes, and metadata.
func bundleFixture(t *testing.T) (string, int) {
	return safetensorsFile(t, []stTensor{
		{"bias", "BF16", []int{3}, []byte{0xcd, 0x3d, 0x80, 0x3f, 0x00, 0xc0}}, // 0.1, 1, -2
		{"model/layer.0/weight", "F32", []int{2, 3}, f32s(0.5, 1, 2, 3, 4, -1)},
		{"ids", "I64", []int{2}, i64s(17, -42)},
		{"mask", "BOOL", []int{3}, []byte{1, 0, 1}},
		{"scale", "F8_E4M3", []int{2}, []byte{0x38, 0xb0}},        // 1, -0.5
		{"half", "F16", []int{2}, []byte{0x66, 0x2e, 0x00, 0x3e}}, // 0.1, 1.5
	}, map[string]string{"format": "pt", "note": "hand written"})
}

// TestBundleCommands: a Hugging Face-style file with an odd header length
// imported as an aligned bundle, and list, info, show, export, rm and gc
// on it, with their errors.
func TestBundleCommands(t *testing.T) {
	needLinux(t)
	file, hdrLen := bundleFixture(t)
	if hdrLen%2 == 0 {
		t.Fatalf("the header length %d is even", hdrLen)
	}
	name := uniqueName(t)
	r := want(t, 0, "import", file, name)
	contains(t, "import", r.stdout, "into shm://"+name, "bundle of 6 tensors", "realigned", fmt.Sprintf("at byte %d of the file", 8+hdrLen))
	// Aligned: the data at a page, each tensor at a multiple of its size.
	bi, err := shmtensor.StatBundle(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range bi.Tensors {
		if x.Offset%int64(x.DType.Size()) != 0 || x.Offset < 4096 {
			t.Errorf("tensor %q at byte %d", x.Name, x.Offset)
		}
	}
	want(t, 1, "import", file, name) // exists
	r = want(t, 2, "import", "--sharedarray", file, uniqueName(t))
	contains(t, "stderr", r.stderr, "--sharedarray does not apply")
	bad := filepath.Join(t.TempDir(), "bad.safetensors")
	os.WriteFile(bad, []byte("\x05\x00\x00\x00\x00\x00\x00\x00{\"a\":"), 0o644)
	other := uniqueName(t)
	r = want(t, 1, "import", bad, other)
	contains(t, "stderr", r.stderr, "not a valid safetensors file")
	if _, err := os.Stat("/dev/shm/" + other); err == nil {
		t.Errorf("a failed import left %s", other)
	}

	r = want(t, 0, "list")
	var row string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, name+" ") {
			row = l
		}
	}
	contains(t, "list row", row, "bundle", "int64,float32,bfloat16,float16,bool,float8_e4m3fn", "6 tensors", "safetensors")

	r = want(t, 0, "info", name)
	contains(t, "info", r.stdout, "kind:         bundle", "tensors:      6", "layout:       safetensors",
		"TENSOR", "model/layer.0/weight  float32", "(2, 3)", "24 B", "scale", "float8_e4m3fn",
		"metadata:     2 keys", "note      hand written")
	r = want(t, 0, "info", "--json", name)
	var rec struct {
		Kind    string          `json:"kind"`
		Channel json.RawMessage `json:"channel"`
		Bundle  struct {
			Tensors []struct {
				Name         string
				DType        string
				Shape        []int
				Offset, Size int64
			}
			Metadata map[string]string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Kind != "bundle" || string(rec.Channel) != "null" || len(rec.Bundle.Tensors) != 6 || rec.Bundle.Metadata["format"] != "pt" {
		t.Errorf("info --json: %+v", rec)
	}
	for _, x := range rec.Bundle.Tensors {
		if x.Name == "ids" && (x.DType != "int64" || x.Size != 16 || x.Offset%8 != 0 || len(x.Shape) != 1) {
			t.Errorf("info --json ids: %+v", x)
		}
	}

	for key, out := range map[string]string{
		"model/layer.0/weight": "[[ 0.5  1.   2. ]\n [ 3.   4.  -1. ]]\n",
		"ids":                  "[ 17 -42]\n",
		"mask":                 "[ True False  True]\n",
		"bias":                 "[ 0.1  1.  -2. ]\n",
		"scale":                "[ 1.  -0.5]\n",
		"half":                 "[0.1 1.5]\n",
	} {
		if r := want(t, 0, "show", name, key); r.stdout != out {
			t.Errorf("show %s:\n%s\nwant\n%s", key, r.stdout, out)
		}
	}
	r = want(t, 1, "show", name)
	contains(t, "show without KEY", r.stderr, "is a bundle of 6 tensors", "show "+name+" KEY", `"model/layer.0/weight"`)
	r = want(t, 1, "show", name, "nosuch")
	contains(t, "show nosuch", r.stderr, `no tensor "nosuch"`, `"ids"`, "and 1 more", "shmtensor info "+name)
	seg := uniqueName(t)
	want(t, 0, "create", seg, "int32", "2")
	r = want(t, 1, "show", seg, "ids")
	contains(t, "show TENSOR KEY", r.stderr, "is a tensor segment, not a bundle")

	// The whole bundle as a standard file: its own bytes.
	dir := t.TempDir()
	out := filepath.Join(dir, "out.safetensors")
	r = want(t, 0, "export", name, out)
	contains(t, "export", r.stdout, "bundle of 6 tensors")
	got, _ := os.ReadFile(out)
	live, _ := os.ReadFile("/dev/shm/" + name)
	if !bytes.Equal(got, live) {
		t.Errorf("the exported file (%d bytes) is not the bundle (%d bytes)", len(got), len(live))
	}
	st, err := codec.ReadSafetensors(bytes.NewReader(got), int64(len(got)))
	if err != nil || len(st.Tensors) != 6 || st.Metadata["note"] != "hand written" {
		t.Errorf("the exported file: %v %+v", err, st)
	}
	want(t, 1, "export", name, out) // exists
	want(t, 0, "export", "--force", name, out)
	want(t, 0, "export", name, filepath.Join(dir, "noext"))

	// One tensor as .npy.
	npy := filepath.Join(dir, "w.npy")
	r = want(t, 0, "export", name, "model/layer.0/weight", npy)
	contains(t, "export KEY", r.stdout, `tensor "model/layer.0/weight"`, "float32 (2, 3)")
	b, _ := os.ReadFile(npy)
	h, err := codec.ParseNPYHeader(b, int64(len(b)))
	if err != nil || h.DType != codec.Float32 || fmt.Sprint(h.Shape) != "[2 3]" || !bytes.Equal(b[h.DataOff:], f32s(0.5, 1, 2, 3, 4, -1)) {
		t.Errorf("the exported .npy: %v %+v", err, h)
	}
	r = want(t, 1, "export", name, "bias", filepath.Join(dir, "b.npy"))
	contains(t, "export bfloat16", r.stderr, "numpy has no bfloat16", "FILE.safetensors")
	r = want(t, 1, "export", name, filepath.Join(dir, "x.npy"))
	contains(t, "export bundle .npy", r.stderr, "is a bundle of 6 tensors", "KEY FILE.npy")
	r = want(t, 1, "export", name, "nosuch", filepath.Join(dir, "y.npy"))
	contains(t, "export nosuch", r.stderr, `no tensor "nosuch"`)
	r = want(t, 1, "export", name, filepath.Join(dir, "z.zarr"))
	contains(t, "export bundle zarr", r.stderr, "is a bundle")
	want(t, 2, "export", name, "ids", filepath.Join(dir, "ids.safetensors"))
	r = want(t, 1, "export", seg, "k", filepath.Join(dir, "k.npy"))
	contains(t, "export TENSOR KEY", r.stderr, "is a tensor segment, not a bundle")
	want(t, 1, "export", seg, filepath.Join(dir, "seg.safetensors"))
	for _, f := range []string{"b.npy", "x.npy", "y.npy", "k.npy", "seg.safetensors", "ids.safetensors"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("a failed export left %s", f)
		}
	}

	// Round trip: the exported file imports as the same bundle.
	copyName := uniqueName(t)
	r = want(t, 0, "import", out, copyName)
	if strings.Contains(r.stdout, "realigned") || strings.Contains(r.stdout, "in the bundle") {
		t.Errorf("an aligned file was moved: %s", r.stdout)
	}
	again, _ := os.ReadFile("/dev/shm/" + copyName)
	if !bytes.Equal(again, live) {
		t.Error("export then import changed the bundle")
	}

	// gc sees a bundle no process holds; rm removes one.
	r = want(t, 0, "gc", "--older-than", "0s", "--match", copyName)
	contains(t, "gc", r.stdout, "would delete bundle shm://"+copyName, "6 tensors")
	r = want(t, 0, "gc", "--older-than", "0s", "--match", copyName, "--yes")
	contains(t, "gc --yes", r.stdout, "deleted bundle shm://"+copyName)
	r = want(t, 0, "rm", name)
	contains(t, "rm", r.stdout, "removed bundle shm://"+name)
	if _, err := os.Stat("/dev/shm/" + name); err == nil {
		t.Error("rm left the bundle")
	}
}

// TestBundleGCHeld: gc leaves alone a bundle a process has attached.
func TestBundleGCHeld(t *testing.T) {
	needLinux(t)
	name := uniqueName(t)
	b, err := shmtensor.CreateBundle(name, []shmtensor.TensorSpec{{Name: "x", DType: shmtensor.Float64, Shape: []int{4}}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r := want(t, 0, "gc", "--older-than", "0s", "--match", name, "--yes")
	if strings.Contains(r.stdout, name) {
		t.Errorf("gc touched an attached bundle: %s", r.stdout)
	}
}

// TestBundleServe: serve gives a bundle as /NAME.safetensors and each
// tensor as /NAME/KEY.npy, with Range requests and the token, and says
// what to use for the URLs of a tensor.
func TestBundleServe(t *testing.T) {
	needLinux(t)
	file, _ := bundleFixture(t)
	name := uniqueName(t)
	want(t, 0, "import", file, name)
	seg := uniqueName(t)
	want(t, 0, "create", seg, "int32", "2")
	live, _ := os.ReadFile("/dev/shm/" + name)
	_, base, token, _ := serveProc(t, name, seg)

	get := func(path, tok string, hdr ...string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, b := get("/"+name+".safetensors", token); code != 200 || !bytes.Equal(b, live) {
		t.Errorf("/NAME.safetensors: %d, %d bytes, want the bundle's %d", code, len(b), len(live))
	}
	if code, b := get("/"+name+".safetensors", token, "Range", "bytes=0-7"); code != 206 || !bytes.Equal(b, live[:8]) {
		t.Errorf("a range of /NAME.safetensors: %d % x", code, b)
	}
	bi, err := shmtensor.StatBundle(name)
	if err != nil {
		t.Fatal(err)
	}
	w := bi.Tensors[0]
	for _, x := range bi.Tensors {
		if x.Name == "model/layer.0/weight" {
			w = x
		}
	}
	code, b := get("/"+name+"/model/layer.0/weight.npy", token)
	h, err := codec.ParseNPYHeader(b, int64(len(b)))
	if code != 200 || err != nil || h.DType != codec.Float32 || !bytes.Equal(b[h.DataOff:], live[w.Offset:w.Offset+w.Size]) {
		t.Errorf("/NAME/KEY.npy: %d %v %+v", code, err, h)
	}
	if code, b := get("/"+name+"/ids.npy", token, "Range", "bytes=-16"); code != 206 || !bytes.Equal(b, i64s(17, -42)) {
		t.Errorf("a range of /NAME/ids.npy: %d % x", code, b)
	}
	for _, c := range []struct {
		path, tok string
		code      int
		msg       string
	}{
		{"/" + name + ".safetensors", "", 401, ""},
		{"/" + name + "/ids.npy", "wrong", 403, ""},
		{"/" + name + "/nosuch.npy", token, 404, `no tensor "nosuch"`},
		{"/" + name + "/bias.npy", token, 404, "numpy has no dtype"},
		{"/" + name + ".npy", token, 404, "is a bundle of 6 tensors"},
		{"/" + name + ".zarr/.zarray", token, 404, "/KEY.npy"},
		{"/" + seg + ".safetensors", token, 404, "not a bundle"},
		{"/" + seg + "/x.npy", token, 404, "not a bundle"},
		{"/" + seg + ".npy", token, 200, ""},
	} {
		code, b := get(c.path, c.tok)
		if code != c.code || !strings.Contains(string(b), c.msg) {
			t.Errorf("%s: %d %q, want %d %q", c.path, code, b, c.code, c.msg)
		}
	}
	code, b = get("/", token)
	var index []struct {
		Name, Kind, Safetensors, NPY string
		Tensors                      []struct{ Name, DType, NPY string }
	}
	if err := json.Unmarshal(b, &index); code != 200 || err != nil || len(index) != 2 {
		t.Fatalf("/: %d %v %s", code, err, b)
	}
	for _, it := range index {
		switch it.Name {
		case name:
			if it.Kind != "bundle" || it.Safetensors != "/"+name+".safetensors" || len(it.Tensors) != 6 {
				t.Errorf("/ lists the bundle as %+v", it)
			}
			for _, x := range it.Tensors {
				if (x.NPY == "") != (x.DType == "bfloat16" || x.DType == "float8_e4m3fn") {
					t.Errorf("/ lists tensor %+v", x)
				}
				if x.NPY != "" {
					if code, _ := get(x.NPY, token); code != 200 {
						t.Errorf("%s from /: %d", x.NPY, code)
					}
				}
			}
		case seg:
			if it.Kind != "tensor" || it.NPY != "/"+seg+".npy" {
				t.Errorf("/ lists the tensor as %+v", it)
			}
		}
	}
}

// TestBundleNumpy: numpy reads what export writes of a bundle, the whole
// file (its header parsed by hand, as any reader does) and one tensor.
func TestBundleNumpy(t *testing.T) {
	needLinux(t)
	needNumpy(t)
	file, _ := bundleFixture(t)
	name := uniqueName(t)
	want(t, 0, "import", file, name)
	dir := t.TempDir()
	want(t, 0, "export", name, filepath.Join(dir, "all.safetensors"))
	want(t, 0, "export", name, "model/layer.0/weight", filepath.Join(dir, "w.npy"))
	want(t, 0, "export", name, "ids", filepath.Join(dir, "ids.npy"))
	out := numpytest.Run(t, `
import json, struct, sys, numpy as np
d = sys.argv[1]
w = np.load(d + "/w.npy")
ids = np.load(d + "/ids.npy")
raw = open(d + "/all.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
h = json.loads(raw[8:8+n])
b, e = h["model/layer.0/weight"]["data_offsets"]
w2 = np.frombuffer(raw, "<f4", (e-b)//4, 8+n+b).reshape(h["model/layer.0/weight"]["shape"])
print(w.dtype, w.shape, (w == w2).all(), ids.tolist(), (8+n) % 4096, h["__metadata__"]["note"])
`, dir)
	if out != "float32 (2, 3) True [17, -42] 0 hand written\n" {
		t.Errorf("numpy read %q", out)
	}
}

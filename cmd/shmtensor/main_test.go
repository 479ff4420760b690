package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shmtensor/shmtensor/internal/numpytest"

	"github.com/shmtensor/shmtensor"
)

// The tests build the command once and run it as a user would.

var exe string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shmtensor-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	exe = filepath.Join(dir, "shmtensor")
	build := exec.Command("go", "build", "-o", exe, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the command:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// runCmd runs the command with args and returns its output and exit status.
func runCmd(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(exe, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("running shmtensor %q: %v", args, err)
	}
	return r
}

// want runs the command, checks its exit status and returns its output.
func want(t *testing.T, code int, args ...string) result {
	t.Helper()
	r := runCmd(t, args...)
	if r.code != code {
		t.Fatalf("shmtensor %s: exit status %d, want %d\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	return r
}

// uniqueName returns a shm name no one else uses and deletes the segment
// (or whatever is under the name) when the test ends.
func uniqueName(t *testing.T) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	name := fmt.Sprintf("shmtensor-test-cmd-%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
	t.Cleanup(func() {
		if shmtensor.Delete(name) != nil && runtime.GOOS == "linux" {
			os.Remove("/dev/shm/" + name)
		}
	})
	return name
}

func needLinux(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("needs /dev/shm")
	}
}

func contains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s does not contain %q:\n%s", what, sub, s)
		}
	}
}

func TestUsage(t *testing.T) {
	r := want(t, 2)
	contains(t, "stderr", r.stderr, "no command given", "usage: shmtensor COMMAND", "list", "demo")
	r = want(t, 2, "lst")
	contains(t, "stderr", r.stderr, `unknown command "lst"`, `did you mean "list"?`)
	// Asked for, help goes to standard output and the status is 0.
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-help"}, {"help"}} {
		r = want(t, 0, args...)
		contains(t, strings.Join(args, " "), r.stdout, "usage: shmtensor COMMAND", "list", "version", "Additional help topics")
		if strings.Contains(r.stdout, "demo-child") {
			t.Errorf("the hidden command is listed:\n%s", r.stdout)
		}
		if r.stderr != "" {
			t.Errorf("%s wrote to standard error: %q", args, r.stderr)
		}
	}
	for _, c := range []string{"list", "info", "create", "rm", "show", "create-channel", "send", "tail", "import", "export", "lock", "demo", "version", "help"} {
		for _, h := range []string{"-h", "--help"} {
			r := want(t, 0, c, h)
			contains(t, c+" "+h, r.stdout, "usage: shmtensor "+c)
		}
		r := want(t, 0, "help", c)
		contains(t, "help "+c, r.stdout, "usage: shmtensor "+c)
		r = want(t, 2, c, "--no-such-option")
		contains(t, c+" --no-such-option", r.stderr, "flag provided but not defined", "usage: shmtensor "+c)
	}
	r = want(t, 0, "help", "names")
	contains(t, "help names", r.stdout, "file://PATH", "/dev/shm/x")
	r = want(t, 0, "help", "json")
	contains(t, "help json", r.stdout, "byte_strides")
	r = want(t, 2, "help", "nmaes")
	contains(t, "help nmaes", r.stderr, `unknown command or topic "nmaes"`, `did you mean "names"?`)
	// Options are listed with their defaults.
	r = want(t, 0, "help", "create")
	contains(t, "help create", r.stdout, "--mode octal", "(default 0600)", "--lazy", "--sharedarray")
}

// TestCommandTable: every command's declared argument count agrees with its
// usage line, which names the arguments in the messages; short
// descriptions fit the list.
func TestCommandTable(t *testing.T) {
	for _, c := range commands {
		words := c.argWords()
		min, max := 0, len(words)
		for _, w := range words {
			if !strings.HasPrefix(w, "[") {
				min++
			}
			if strings.HasSuffix(w, "...") || strings.HasSuffix(w, "...]") {
				max = manyArgs
			}
		}
		if c.MinArgs != min || c.MaxArgs != max {
			t.Errorf("%s: MinArgs, MaxArgs = %d, %d; the usage line %q says %d, %d", c.Name(), c.MinArgs, c.MaxArgs, c.UsageLine, min, max)
		}
		if c.Run == nil || c.Short == "" || strings.HasSuffix(c.Short, ".") || c.Long == "" {
			t.Errorf("%s: incomplete: %+v", c.Name(), c)
		}
		if lookup(c.Name()) != c {
			t.Errorf("%s: two commands of that name", c.Name())
		}
	}
}

// TestOptionsAnywhere: options may follow the arguments, or sit between
// them; after "--" everything is an argument; a negative number is an
// argument unless it is an option's value.
func TestOptionsAnywhere(t *testing.T) {
	name := uniqueName(t)
	want(t, 0, "create", name, "int32", "--mode", "0640", "100", "--lazy")
	if st, err := shmtensor.Stat(name); err != nil || st.Mode != 0o640 || !slices.Equal(st.Shape, []int{100}) {
		t.Fatalf("create NAME int32 --mode 0640 100 --lazy: %+v, %v", st, err)
	}
	r := want(t, 0, "show", name, "--max", "5")
	if !strings.Contains(r.stdout, "...") {
		t.Errorf("show NAME --max 5 did not summarise:\n%s", r.stdout)
	}
	r = want(t, 0, "show", name, "--max=0")
	if strings.Contains(r.stdout, "...") {
		t.Errorf("show NAME --max=0 summarised:\n%s", r.stdout)
	}
	r = want(t, 0, "info", name, "-json")
	if !strings.Contains(r.stdout, `"name": "shm://`+name+`"`) {
		t.Errorf("info NAME -json:\n%s", r.stdout)
	}
	r = want(t, 2, "show", name, "--max", "-1")
	contains(t, "show --max -1", r.stderr, "--max -1 is negative")
	r = want(t, 2, "show", name, "--max")
	contains(t, "show NAME --max", r.stderr, "flag needs an argument")
	// After "--", "--lazy" is a dimension, and not an integer.
	r = want(t, 2, "create", uniqueName(t), "int8", "--", "--lazy")
	contains(t, "create -- --lazy", r.stderr, `dimension "--lazy" is not an integer`)
	r = want(t, 2, "create", "--lazy", uniqueName(t), "int8", "-3")
	contains(t, "create --lazy NAME int8 -3", r.stderr, "dimension -3 is negative")
}

// TestMessages: messages that were wrong or unclear when tried.
func TestMessages(t *testing.T) {
	name := uniqueName(t)
	missing := filepath.Join(t.TempDir(), "none.npy")
	// Sizes past what an int counts: its square has too many elements,
	// and bigBytes complex128 elements too many bytes.
	big, bigSquare, bigBytes := "100000000000", "10000000000000000000000", "1000000000000000000"
	if strconv.IntSize == 32 {
		big, bigSquare, bigBytes = "100000", "10000000000", "1000000000"
	}
	cases := []struct {
		code    int
		args    []string
		msg     []string
		without []string
	}{
		// A missing file is a file, and list would not show it.
		{1, []string{"import", missing, name}, []string{"file " + missing + " does not exist"}, []string{"segment", "list"}},
		{1, []string{"show", "file://" + missing}, []string{"does not exist"}, []string{"shmtensor list"}},
		// A /dev/shm path is the bare name.
		{1, []string{"info", "/dev/shm/" + name}, []string{`give the bare name "` + name + `"`}, nil},
		{1, []string{"create", "/dev/shm/" + name, "int8"}, []string{`give the bare name "` + name + `"`}, nil},
		// The command is named once.
		{1, []string{"create", "", "int8", "3"}, []string{"shmtensor: create: invalid segment name: empty name"}, []string{"create: create:"}},
		{1, []string{"create", "", "int8", "3"}, []string{"empty name"}, []string{"create: create:"}},
		// An oversized shape says which limit, as bad usage.
		{2, []string{"create", name, "int8", big, big},
			[]string{bigSquare + " elements", fmt.Sprintf("more than %d", math.MaxInt), "the most numpy and Go can count"}, nil},
		{2, []string{"create", name, "float64", "0", big, big}, []string{"not counting zero dimensions"}, nil},
		{2, []string{"create", name, "complex128", bigBytes},
			[]string{"data size of complex128 (" + bigBytes + ",) is 16" + bigBytes[1:] + " bytes", "more than a segment can hold"}, nil},
		{2, []string{"create", name, "int8", "99999999999999999999"}, []string{"dimension 99999999999999999999 is too large"}, nil},
		{2, append([]string{"create", name, "int8"}, strings.Fields(strings.Repeat("1 ", 65))...), []string{"65 dimensions, at most 64 allowed"}, nil},
		// Big-endian is named.
		{2, []string{"create", name, ">f8", "3"}, []string{`big-endian dtype ">f8" is not supported`, `"<f8"`}, []string{"unknown dtype"}},
		// Too many arguments.
		{2, []string{"export", name, "key", "a.npy", "b.npy"}, []string{`unexpected argument "b.npy": want NAME [KEY] FILE.npy`}, nil},
		// An optional word between required ones is not missing.
		{2, []string{"export", name}, []string{`missing FILE.npy|DIR.zarr|FILE.safetensors after "` + name + `"`}, []string{"missing [KEY]"}},
		{2, []string{"version", "x"}, []string{`unexpected argument "x" (version takes no arguments)`}, nil},
		{2, []string{"help", "list", "show"}, []string{`unexpected argument "show": want [COMMAND | TOPIC]`}, nil},
	}
	for _, c := range cases {
		what := strings.Join(c.args, " ")
		r := want(t, c.code, c.args...)
		contains(t, what, r.stderr, c.msg...)
		for _, s := range c.without {
			if strings.Contains(r.stderr, s) {
				t.Errorf("%s: stderr contains %q:\n%s", what, s, r.stderr)
			}
		}
	}
	if _, err := shmtensor.Stat(name); !errors.Is(err, shmtensor.ErrNotExist) {
		t.Errorf("a failed command left %s: %v", name, err)
	}

	// An unsupported dtype in a file is unsupported, not a mismatch; the
	// message names the file.
	dir := t.TempDir()
	for _, c := range []struct{ descr, msg string }{
		{">f8", `big-endian '>f8' data: shmtensor maps only native little-endian element types; numpy can convert it with arr.astype('<f8')`},
		{"<U1", `unknown element type "<U1"`},
	} {
		file := filepath.Join(dir, "x.npy")
		if err := os.WriteFile(file, npyFile(c.descr, false, []int{2}, make([]byte, 8)), 0o644); err != nil {
			t.Fatal(err)
		}
		r := want(t, 1, "import", file, name)
		contains(t, "import "+c.descr, r.stderr, "shmtensor: import: "+file+": unsupported dtype: ", c.msg)
		if strings.Contains(r.stderr, "mismatch") {
			t.Errorf("import %s: %s", c.descr, r.stderr)
		}
	}
	file := filepath.Join(dir, "junk.npy")
	os.WriteFile(file, []byte("not a .npy file at all"), 0o644)
	r := want(t, 1, "import", file, name)
	contains(t, "import junk", r.stderr, file+" is not a valid .npy file")
	if _, err := shmtensor.Stat(name); !errors.Is(err, shmtensor.ErrNotExist) {
		t.Errorf("a failed import left %s: %v", name, err)
	}

	// info of a 0-d tensor: one element, not "1 elements".
	scalar := uniqueName(t)
	want(t, 0, "create", scalar, "float32")
	r = want(t, 0, "info", scalar)
	contains(t, "info of a 0-d tensor", r.stdout, "shape:        (), 1 element\n", "4 of data")

	// Sizes say which size they are.
	sized := uniqueName(t)
	r = want(t, 0, "create", sized, "float64", "3", "4")
	contains(t, "create", r.stdout, "data 96 B, segment 4.1 KiB")
	exported := filepath.Join(dir, "sized.npy")
	r = want(t, 0, "export", sized, exported)
	contains(t, "export", r.stdout, "data 96 B, file 224 B")
	r = want(t, 0, "import", exported, uniqueName(t))
	contains(t, "import", r.stdout, "data 96 B, segment 4.1 KiB")
}

// TestNumpyAliases: numpy's common dtype names mean what numpy makes of
// them on this machine.
func TestNumpyAliases(t *testing.T) {
	aliases := map[string]string{"int": "int64", "int_": "int64", "uint": "uint64", "float": "float64",
		"float_": "float64", "double": "float64", "complex": "complex128", "bool": "bool"}
	if strconv.IntSize == 32 {
		aliases["int"], aliases["int_"], aliases["uint"] = "int32", "int32", "uint32"
	}
	for alias, dt := range aliases {
		name := uniqueName(t)
		r := want(t, 0, "create", name, alias, "2")
		contains(t, "create "+alias, r.stdout, "created shm://"+name+": "+dt+" (2,)")
	}

	// numpy on this machine agrees, when it counts in words of the same
	// size: a 32-bit test binary on a 64-bit system meets a 64-bit numpy.
	needNumpy(t)
	var script strings.Builder
	script.WriteString("import numpy as np\nprint('intp-bits', np.dtype(np.intp).itemsize * 8)\n")
	for alias := range aliases {
		fmt.Fprintf(&script, "print(%q, np.dtype(%q))\n", alias, alias)
	}
	out := numpytest.Run(t, script.String())
	if bits := fmt.Sprintf("intp-bits %d\n", strconv.IntSize); !strings.Contains(out, bits) {
		t.Skipf("numpy's words are not %d bits wide like this test's:\n%s", strconv.IntSize, out)
	}
	n := 0
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) == 2 && f[0] != "intp-bits" {
			n++
			if aliases[f[0]] != f[1] {
				t.Errorf("numpy reads %s as %s, the command as %s", f[0], f[1], aliases[f[0]])
			}
		}
	}
	if n != len(aliases) {
		t.Errorf("numpy printed:\n%s", out)
	}
}

// TestListEscapesNames: a name with a newline or other control characters
// cannot forge a row of list. The package refuses such names, so create
// fails; one made by another program (copied here from a valid segment)
// is not listed.
func TestListEscapesNames(t *testing.T) {
	needLinux(t)
	base := uniqueName(t)
	forged := base + "\nfake  float64  (1,)  4.0 KiB  npy  0600  root  2026-01-01 00:00:00"
	t.Cleanup(func() { os.Remove("/dev/shm/" + forged) })
	r := want(t, 1, "create", forged, "float64", "1")
	contains(t, "create", r.stderr, "invalid segment name", "control character")
	want(t, 0, "create", base, "float64", "1")
	data, err := os.ReadFile("/dev/shm/" + base)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("/dev/shm/"+forged, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"list"}, {"list", "--all"}} {
		r = want(t, 0, args...)
		for line := range strings.Lines(r.stdout) {
			if strings.HasPrefix(line, "fake ") {
				t.Errorf("a name forged a row:\n%s", r.stdout)
			}
		}
	}
}

func TestEscapeName(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{"plain-name_1.x", "plain-name_1.x"},
		{"a b", `a\ b`},
		{`back\slash`, `back\\slash`},
		{"tab\tnl\ncr\rbell\avt\vff\fbs\b", `tab\tnl\ncr\rbell\avt\vff\fbs\b`},
		{"esc\x1b[31m", `esc\033[31m`},
		{"del\x7f", `del\177`},
		{"bad\xff", `bad\377`},
		{"bidi\u202e", `bidi\342\200\256`},
		{"naïve-数据", "naïve-数据"},
	} {
		if got := escapeName(c.in); got != c.out {
			t.Errorf("escapeName(%q) = %q, want %q", c.in, got, c.out)
		}
	}
}

// TestDemoChildRefuses: demo-child runs only when started by demo.
func TestDemoChildRefuses(t *testing.T) {
	a, c := uniqueName(t), uniqueName(t)
	for _, env := range []string{"", "SHMTENSOR_DEMO_PARENT=1", fmt.Sprintf("SHMTENSOR_DEMO_PARENT=%d", os.Getpid()+1)} {
		cmd := exec.Command(exe, "demo-child", a, c)
		cmd.Env = os.Environ()
		if env != "" {
			cmd.Env = append(cmd.Env, env)
		}
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), `runs only when started by it`) {
			t.Errorf("demo-child with %q: %v\n%s", env, err, out)
		}
	}
	// Started as demo starts it, it runs: here it fails to attach A.
	cmd := exec.Command(exe, "demo-child", a, c)
	cmd.Env = append(os.Environ(), fmt.Sprintf("SHMTENSOR_DEMO_PARENT=%d", os.Getpid()))
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "does not exist") {
		t.Errorf("demo-child started by its parent:\n%s", out)
	}
}

// TestVersion: version prints the module version the binary records, as
// "go version -m" reads it, and the Go version.
func TestVersion(t *testing.T) {
	r := want(t, 0, "version")
	out, err := exec.Command("go", "version", "-m", exe).Output()
	if err != nil {
		t.Fatal(err)
	}
	var mod, goVersion string
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "mod" && f[1] == "github.com/shmtensor/shmtensor":
			mod = f[2]
		case strings.HasPrefix(line, exe+": "):
			goVersion = strings.TrimSpace(strings.TrimPrefix(line, exe+": "))
		}
	}
	if mod == "" || goVersion == "" {
		t.Fatalf("go version -m:\n%s", out)
	}
	if !strings.HasPrefix(r.stdout, "shmtensor "+mod+" ") || !strings.Contains(r.stdout, " "+goVersion+" "+runtime.GOOS+"/"+runtime.GOARCH+"\n") {
		t.Errorf("version printed %q; want the module version %s and %s", r.stdout, mod, goVersion)
	}
}

func TestCreateInfoShowListRm(t *testing.T) {
	name := uniqueName(t)
	r := want(t, 0, "create", "--mode", "0640", name, "float64", "3", "4")
	contains(t, "create", r.stdout, "created shm://"+name, "float64", "(3, 4)")

	r = want(t, 0, "info", name)
	contains(t, "info", r.stdout, "shm://"+name, "float64", "(3, 4), 12 elements", "npy",
		"data offset:  4096", "(4, 1) elements, (32, 8) bytes", "0640")

	var in jsonInfo
	r = want(t, 0, "info", "--json", name)
	if err := json.Unmarshal([]byte(r.stdout), &in); err != nil {
		t.Fatalf("info --json: %v\n%s", err, r.stdout)
	}
	if in.Name != "shm://"+name || in.DType != "float64" || in.Descr != "<f8" || in.ItemSize != 8 ||
		!slices.Equal(in.Shape, []int{3, 4}) || in.Layout != "npy" || in.Fortran ||
		in.DataOffset != 4096 || in.Size != 4096+96 || !slices.Equal(in.Strides, []int{4, 1}) ||
		!slices.Equal(in.ByteStrides, []int{32, 8}) || in.Mode != "0640" ||
		int(in.UID) != os.Getuid() || in.Owner == "" {
		t.Errorf("info --json: %+v", in)
	}
	if _, err := time.Parse(time.RFC3339Nano, in.Modified); err != nil {
		t.Errorf("modified: %v", err)
	}
	// Every documented field is there, and no other.
	var raw map[string]any
	json.Unmarshal([]byte(r.stdout), &raw)
	fields := []string{"name", "dtype", "descr", "itemsize", "shape", "size", "layout", "fortran",
		"data_offset", "strides", "byte_strides", "mode", "uid", "gid", "owner", "group", "modified", "kind", "channel", "bundle"}
	for _, f := range fields {
		if _, ok := raw[f]; !ok {
			t.Errorf("info --json has no %q", f)
		}
	}
	if len(raw) != len(fields) {
		t.Errorf("info --json has %d fields, want %d: %v", len(raw), len(fields), raw)
	}
	if raw["kind"] != "tensor" || raw["channel"] != nil {
		t.Errorf("info --json of a tensor segment: kind %v, channel %v; want tensor, null", raw["kind"], raw["channel"])
	}

	r = want(t, 0, "show", name)
	if want := "[[0. 0. 0. 0.]\n [0. 0. 0. 0.]\n [0. 0. 0. 0.]]\n"; r.stdout != want {
		t.Errorf("show:\n%s\nwant:\n%s", r.stdout, want)
	}

	if runtime.GOOS == "linux" {
		r = want(t, 0, "list")
		var line string
		for l := range strings.Lines(r.stdout) {
			if strings.HasPrefix(l, name+" ") {
				line = l
			}
		}
		if !strings.HasPrefix(r.stdout, "NAME ") || line == "" {
			t.Fatalf("list has no line for %s:\n%s", name, r.stdout)
		}
		if f := strings.Fields(line); len(f) < 11 || f[1] != "tensor" || f[2] != "float64" || f[3] != "(3," || f[4] != "4)" ||
			f[5]+" "+f[6] != "4.1 KiB" || f[7] != "npy" || f[8] != "0640" {
			t.Errorf("list line: %q", line)
		}
		var all []jsonInfo
		r = want(t, 0, "list", "--json")
		if err := json.Unmarshal([]byte(r.stdout), &all); err != nil {
			t.Fatalf("list --json: %v\n%s", err, r.stdout)
		}
		i := slices.IndexFunc(all, func(x jsonInfo) bool { return x.Name == "shm://"+name })
		if i < 0 || !slices.Equal(all[i].Shape, []int{3, 4}) || all[i].Mode != "0640" {
			t.Errorf("list --json lacks %s: %+v", name, all)
		}
	}

	r = want(t, 0, "rm", name)
	contains(t, "rm", r.stdout, "removed shm://"+name)
	r = want(t, 1, "info", name)
	contains(t, "info after rm", r.stderr, "does not exist", "shmtensor list")
	r = want(t, 1, "rm", name)
	contains(t, "rm again", r.stderr, "shmtensor: rm: ", "does not exist")
}

func TestCreateOptions(t *testing.T) {
	sa := uniqueName(t)
	want(t, 0, "create", "--sharedarray", "--lazy", sa, "<i4", "2", "3")
	var in jsonInfo
	json.Unmarshal([]byte(want(t, 0, "info", "-json", sa).stdout), &in)
	if in.Layout != "sharedarray" || in.DType != "int32" || in.DataOffset != 0 || in.Mode != "0600" {
		t.Errorf("sharedarray segment: %+v", in)
	}
	if r := want(t, 0, "show", sa); r.stdout != "[[0 0 0]\n [0 0 0]]\n" {
		t.Errorf("show: %q", r.stdout)
	}

	scalar := uniqueName(t)
	want(t, 0, "create", scalar, "complex64")
	json.Unmarshal([]byte(want(t, 0, "info", "--json", scalar).stdout), &in)
	if in.Shape == nil || len(in.Shape) != 0 || in.Strides == nil {
		t.Errorf("0-d segment: %+v", in)
	}

	// The name is taken.
	r := want(t, 1, "create", sa, "float64", "2")
	contains(t, "create existing", r.stderr, "already exists", "shmtensor rm")
}

func TestShowValues(t *testing.T) {
	name := uniqueName(t)
	a, err := shmtensor.Create[float64](name, []int{2, 3})
	if err != nil {
		t.Fatal(err)
	}
	copy(a.Data(), []float64{0.5, 1, 2.25, -3, 1e-3, 100})
	a.Close()
	r := want(t, 0, "show", name)
	if want := "[[ 5.00e-01  1.00e+00  2.25e+00]\n [-3.00e+00  1.00e-03  1.00e+02]]\n"; r.stdout != want {
		t.Errorf("show:\n%s\nwant:\n%s", r.stdout, want)
	}

	big := uniqueName(t)
	b, err := shmtensor.Create[int32](big, []int{100, 100})
	if err != nil {
		t.Fatal(err)
	}
	for i := range b.Data() {
		b.Data()[i] = int32(i)
	}
	b.Close()
	r = want(t, 0, "show", big)
	wantSummary := "[[   0    1    2 ...   97   98   99]\n" +
		" [ 100  101  102 ...  197  198  199]\n" +
		" [ 200  201  202 ...  297  298  299]\n" +
		" ...\n" +
		" [9700 9701 9702 ... 9797 9798 9799]\n" +
		" [9800 9801 9802 ... 9897 9898 9899]\n" +
		" [9900 9901 9902 ... 9997 9998 9999]]\n"
	if r.stdout != wantSummary {
		t.Errorf("show summarised:\n%s\nwant:\n%s", r.stdout, wantSummary)
	}
	r = want(t, 0, "show", "--max", "0", big)
	if n := strings.Count(r.stdout, "\n"); n < 100 || strings.Contains(r.stdout, "...") {
		t.Errorf("show --max 0 summarised (%d lines)", n)
	}
	r = want(t, 0, "show", "--max", "20000", big)
	if strings.Contains(r.stdout, "...") {
		t.Errorf("show --max 20000 summarised")
	}
	want(t, 2, "show", "--max", "-1", big)
}

func TestBadInput(t *testing.T) {
	name := uniqueName(t)
	cases := []struct {
		code int
		args []string
		msg  string
	}{
		{2, []string{"create", name, "flaot64", "3"}, `unknown dtype "flaot64" (want one of: bool int8 `},
		{2, []string{"create", name, "float64", "-3"}, "dimension -3 is negative"},
		{2, []string{"create", name, "float64", "3", "x"}, `dimension "x" is not an integer`},
		{2, []string{"create"}, "missing NAME and DTYPE"},
		{2, []string{"create", name}, "missing DTYPE"},
		{2, []string{"create", "--mode", "999", name, "int8", "1"}, "octal"},
		{2, []string{"create", "--mode", "4755", name, "int8", "1"}, `"4755" sets bits other than the permission bits 0777 (setuid, setgid or sticky)`},
		{1, []string{"create", "a/b", "int8", "3"}, "invalid segment name"},
		{2, []string{"info"}, "missing NAME"},
		{2, []string{"info", "a", "b"}, "one NAME at a time"},
		{2, []string{"show"}, "missing NAME"},
		{2, []string{"rm"}, "missing NAME"},
		{2, []string{"list", "x"}, "unexpected argument"},
		{2, []string{"import", "x.npy"}, "missing NAME"},
		{2, []string{"export", name}, "missing FILE.npy"},
		{2, []string{"demo", "extra"}, "unexpected argument"},
		{1, []string{"info", name}, "does not exist"},
		{1, []string{"show", name}, "does not exist"},
		{1, []string{"import", filepath.Join(t.TempDir(), "none.npy"), name}, "does not exist"},
	}
	for _, c := range cases {
		r := want(t, c.code, c.args...)
		contains(t, strings.Join(c.args, " "), r.stderr, c.msg)
		if c.code == 2 {
			contains(t, strings.Join(c.args, " "), r.stderr, "usage: shmtensor ")
		}
		if !strings.HasPrefix(r.stderr, "shmtensor: ") {
			t.Errorf("%s: error does not start with the program name: %q", c.args, r.stderr)
		}
	}
	if _, err := shmtensor.Stat(name); err == nil {
		t.Errorf("a failed create left %s", name)
	}
}

func TestForeignFiles(t *testing.T) {
	needLinux(t)
	foreign := uniqueName(t)
	path := "/dev/shm/" + foreign
	if err := os.WriteFile(path, []byte("not a tensor, someone else's shared memory"), 0o600); err != nil {
		t.Fatal(err)
	}
	real := uniqueName(t)
	want(t, 0, "create", real, "uint8", "7")

	r := want(t, 0, "list")
	if strings.Contains(r.stdout, foreign) {
		t.Errorf("list shows a foreign file:\n%s", r.stdout)
	}
	r = want(t, 0, "list", "--json")
	if strings.Contains(r.stdout, foreign) || !strings.Contains(r.stdout, real) {
		t.Errorf("list --json:\n%s", r.stdout)
	}

	missing := uniqueName(t)
	r = want(t, 1, "rm", foreign, real, missing)
	contains(t, "rm stderr", r.stderr, "shm://"+foreign, "not a tensor segment", "refusing to remove it",
		"shmtensor removes only tensor segments", "rm /dev/shm/"+foreign+" removes it", "shm://"+missing, "does not exist")
	if strings.Contains(r.stderr, "rm --force") {
		t.Errorf("rm suggests --force for a file without a tensor magic, which --force refuses:\n%s", r.stderr)
	}
	contains(t, "rm stdout", r.stdout, "removed shm://"+real)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("rm removed a foreign file: %v", err)
	}
	if _, err := shmtensor.Stat(real); !errors.Is(err, shmtensor.ErrNotExist) {
		t.Errorf("rm did not remove %s, next to a foreign file: %v", real, err)
	}
	r = want(t, 1, "info", foreign)
	contains(t, "info foreign", r.stderr, "not a tensor segment")
}

func TestImportExport(t *testing.T) {
	dir := t.TempDir()
	name := uniqueName(t)
	a, err := shmtensor.Create[int32](name, []int{2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Data() {
		a.Data()[i] = int32(i*7 - 50)
	}
	a.Close()

	file := filepath.Join(dir, "a.npy")
	r := want(t, 0, "export", name, file)
	contains(t, "export", r.stdout, "exported shm://"+name, file)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 128+24*4 || !bytes.HasPrefix(b, []byte("\x93NUMPY\x01\x00")) || b[127] != '\n' {
		t.Errorf("export wrote %d bytes: %q", len(b), b[:min(len(b), 128)])
	}

	// No overwriting without --force.
	os.WriteFile(file, []byte("precious"), 0o644)
	os.Chmod(file, 0o600)
	r = want(t, 1, "export", name, file)
	contains(t, "export over a file", r.stderr, "exists", "--force")
	if got, _ := os.ReadFile(file); string(got) != "precious" {
		t.Errorf("export overwrote a file without --force")
	}
	want(t, 0, "export", name, file, "--force")
	if got, _ := os.ReadFile(file); !bytes.Equal(got, b) {
		t.Errorf("export --force wrote something else")
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("export --force did not keep the file's mode 0600: %v, %v", st.Mode(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("export --force left files behind: %v", ents)
	}

	back := uniqueName(t)
	r = want(t, 0, "import", "--mode", "0644", file, back)
	contains(t, "import", r.stdout, "imported", "shm://"+back, "int32", "(2, 3, 4)")
	orig, _ := shmtensor.Open(name, shmtensor.ReadOnly())
	defer orig.Close()
	got, err := shmtensor.Open(back, shmtensor.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if !slices.Equal(got.Shape(), []int{2, 3, 4}) || got.DType() != shmtensor.Int32 || !bytes.Equal(got.Bytes(), orig.Bytes()) {
		t.Errorf("import: %v %v, data equal: %v", got.DType(), got.Shape(), bytes.Equal(got.Bytes(), orig.Bytes()))
	}
	if st, _ := shmtensor.Stat(back); st.Mode != 0o644 {
		t.Errorf("import --mode 0644 gave %v", st.Mode)
	}
	r = want(t, 1, "import", file, back)
	contains(t, "import to an existing name", r.stderr, "already exists")
}

func TestImportFortran(t *testing.T) {
	// A Fortran-order .npy file of shape (2, 3, 4) holding v[i,j,k] =
	// 100i + 10j + k, written by hand: element (i,j,k) is at i + 2j + 6k.
	shape := []int{2, 3, 4}
	data := make([]byte, 24*8)
	for i := range 2 {
		for j := range 3 {
			for k := range 4 {
				binary.LittleEndian.PutUint64(data[(i+2*j+6*k)*8:], math.Float64bits(float64(100*i+10*j+k)))
			}
		}
	}
	file := filepath.Join(t.TempDir(), "f.npy")
	os.WriteFile(file, npyFile("<f8", true, shape, data), 0o644)
	if r := want(t, 0, "info", "--json", "file://"+file); !strings.Contains(r.stdout, `"fortran": true`) {
		t.Fatalf("the hand-written file is not Fortran order:\n%s", r.stdout)
	}

	// The segment keeps the file's order, as numpy.load keeps it.
	name := uniqueName(t)
	r := want(t, 0, "import", file, name)
	contains(t, "import", r.stdout, "(2, 3, 4), Fortran order")
	a, err := shmtensor.Attach[float64](name)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if !a.Segment().Fortran() || !bytes.Equal(a.Segment().Bytes(), data) {
		t.Errorf("the segment is not the file's Fortran-order data")
	}
	for i := range 2 {
		for j := range 3 {
			for k := range 4 {
				if v := a.At(i, j, k); v != float64(100*i+10*j+k) {
					t.Errorf("a[%d,%d,%d] = %v", i, j, k, v)
				}
			}
		}
	}
	// show reads Fortran order directly.
	r = want(t, 0, "show", "file://"+file)
	contains(t, "show Fortran", r.stdout, "[[[  0.   1.   2.   3.]\n  [ 10.  11.  12.  13.]")
	r = want(t, 0, "show", name)
	contains(t, "show the Fortran segment", r.stdout, "[[[  0.   1.   2.   3.]\n  [ 10.  11.  12.  13.]")

	// Exported again, it is the same file.
	back := filepath.Join(t.TempDir(), "back.npy")
	want(t, 0, "export", name, back)
	if got, _ := os.ReadFile(back); !bytes.Equal(got, npyFile("<f8", true, shape, data)) {
		t.Errorf("exported Fortran segment:\n%q", got)
	}

	// SharedArray's layout records no order: refused, nothing left.
	sa := uniqueName(t)
	r = want(t, 1, "import", "--sharedarray", file, sa)
	contains(t, "import --sharedarray of a Fortran file", r.stderr, "not contiguous")
	if _, err := shmtensor.Stat(sa); !errors.Is(err, shmtensor.ErrNotExist) {
		t.Errorf("a refused import left %s: %v", sa, err)
	}
}

// npyFile returns a version 1.0 .npy file with the given header fields and
// data, its header padded to 64 bytes as numpy pads it.
func npyFile(descr string, fortran bool, shape []int, data []byte) []byte {
	order := "False"
	if fortran {
		order = "True"
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, order, shmtensor.FormatShape(shape))
	total := (10 + len(dict) + 1 + 63) / 64 * 64
	b := append([]byte("\x93NUMPY\x01\x00"), byte(total-10), byte((total-10)>>8))
	b = append(b, dict...)
	for len(b) < total-1 {
		b = append(b, ' ')
	}
	return append(append(b, '\n'), data...)
}

func TestNumpyReadsExport(t *testing.T) {
	needNumpy(t)
	name := uniqueName(t)
	a, err := shmtensor.Create[complex64](name, []int{3, 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Data() {
		a.Data()[i] = complex(float32(i), -float32(i)/2)
	}
	a.Close()
	file := filepath.Join(t.TempDir(), "c.npy")
	want(t, 0, "export", name, file)
	out := numpytest.Run(t, `
import sys, numpy as np
a = np.load(sys.argv[1])
print(a.dtype.str, a.shape, a.flags.c_contiguous, a[2, 1])
`, file)
	if out != "<c8 (3, 2) True (5-2.5j)\n" {
		t.Errorf("numpy read %q", out)
	}

	// numpy writes bool and float16 (no Go type) and a Fortran array into
	// /dev/shm; export and show handle them as bytes.
	needLinux(t)
	for _, c := range []struct{ expr, show string }{
		{"np.array([[True, False], [False, True]])", "[[ True False]\n [False  True]]\n"},
		{"np.array([0.1, 1.5, -2], dtype=np.float16)", "[ 0.1  1.5 -2. ]\n"},
		{"np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3))", "[[0 1 2]\n [3 4 5]]\n"},
	} {
		seg := uniqueName(t)
		numpytest.Run(t, `
import sys, numpy as np
a = `+c.expr+`
with open("/dev/shm/" + sys.argv[1], "xb") as f:
    np.save(f, a)
`, seg)
		if r := want(t, 0, "show", seg); r.stdout != c.show {
			t.Errorf("show %s:\n%s\nwant:\n%s", c.expr, r.stdout, c.show)
		}
		file := filepath.Join(t.TempDir(), "x.npy")
		want(t, 0, "export", seg, file)
		out := numpytest.Run(t, `
import sys, numpy as np
a = `+c.expr+`
b = np.load(sys.argv[1])
print(a.dtype == b.dtype and a.shape == b.shape and bool((a == b).all()))
`, file)
		if out != "True\n" {
			t.Errorf("numpy read back %s: %q", c.expr, out)
		}
	}
}

// TestCreateBoolAndFloat16: types without a Go Number are created too.
func TestCreateBoolAndFloat16(t *testing.T) {
	for _, dt := range []string{"bool", "float16", "<f2", "?"} {
		name := uniqueName(t)
		want(t, 0, "create", name, dt, "2", "3")
		r := want(t, 0, "info", "--json", name)
		var info jsonInfo
		if err := json.Unmarshal([]byte(r.stdout), &info); err != nil {
			t.Fatal(err)
		}
		wantDT := map[string]string{"bool": "bool", "?": "bool", "float16": "float16", "<f2": "float16"}[dt]
		if info.DType != wantDT || !slices.Equal(info.Shape, []int{2, 3}) {
			t.Errorf("create %s: info %+v", dt, info)
		}
		if r := want(t, 0, "show", name); !strings.Contains(r.stdout, "[[") {
			t.Errorf("show %s: %q", dt, r.stdout)
		}
	}
}

func TestDemo(t *testing.T) {
	r := want(t, 0, "demo")
	parent := regexp.MustCompile(`(?m)^parent (\d+): `).FindStringSubmatch(r.stdout)
	child := regexp.MustCompile(`(?m)^child  (\d+): `).FindStringSubmatch(r.stdout)
	if parent == nil || child == nil || parent[1] == child[1] {
		t.Fatalf("demo output lacks two pids:\n%s", r.stdout)
	}
	contains(t, "demo", r.stdout, "check ok", "from child "+child[1], "faster", "attached", "deleted")
	base := regexp.MustCompile(`shm://(shmtensor-demo-\d+-[0-9a-f]+)-a`).FindStringSubmatch(r.stdout)
	if base == nil {
		t.Fatalf("no segment name in the output:\n%s", r.stdout)
	}
	for _, s := range []string{"-a", "-c"} {
		if _, err := shmtensor.Stat(base[1] + s); !errors.Is(err, shmtensor.ErrNotExist) {
			t.Errorf("demo left %s%s behind: %v", base[1], s, err)
		}
	}
}

func TestDemoInterrupted(t *testing.T) {
	// A larger matrix keeps the child busy (computing for some hundreds of
	// milliseconds) while the parent is interrupted; its two segments take
	// 36 MB, which fits a container's default 64 MB /dev/shm.
	cmd := exec.Command(exe, "demo", "-n", "1500")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	var (
		mu   sync.Mutex
		text strings.Builder
	)
	started := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			mu.Lock()
			text.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if m := regexp.MustCompile(`started child (\d+)`).FindStringSubmatch(sc.Text()); m != nil {
				started <- m[1]
			}
		}
	}()
	var childPID string
	select {
	case childPID = <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not start its child")
	}
	cmd.Process.Signal(os.Interrupt)
	<-done
	err = cmd.Wait()
	mu.Lock()
	stdout := text.String()
	mu.Unlock()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("interrupted demo: %v, want exit status 130\nstdout:\n%s\nstderr:\n%s", err, stdout, errb.String())
	}
	contains(t, "stderr", errb.String(), "interrupted", "deleted")
	base := regexp.MustCompile(`shm://(shmtensor-demo-\d+-[0-9a-f]+)-a`).FindStringSubmatch(stdout)
	if base == nil {
		t.Fatalf("no segment name in the output:\n%s", stdout)
	}
	for _, s := range []string{"-a", "-c"} {
		if _, err := shmtensor.Stat(base[1] + s); !errors.Is(err, shmtensor.ErrNotExist) {
			t.Errorf("the interrupted demo left %s%s behind: %v", base[1], s, err)
		}
	}
	var pid int
	fmt.Sscan(childPID, &pid)
	if p, err := os.FindProcess(pid); err == nil && p.Signal(syscall.Signal(0)) == nil {
		// The pid may be a zombie for a moment, or reused; only warn.
		t.Logf("child %d may still exist", pid)
	}
}

// TestExportHeader: export writes numpy's version 1.0 header, padded so
// that the data starts at a multiple of 64 bytes, for any shape.
func TestExportHeader(t *testing.T) {
	ones := make([]int, shmtensor.MaxDims)
	for i := range ones {
		ones[i] = 1
	}
	for _, shape := range [][]int{{}, {5}, {3, 4}, ones} {
		name := uniqueName(t)
		seg, err := shmtensor.CreateSegment(name, shmtensor.Float32, shape)
		if err != nil {
			t.Fatal(err)
		}
		seg.Close()
		file := filepath.Join(t.TempDir(), "h.npy")
		want(t, 0, "export", name, file)
		h, _ := os.ReadFile(file)
		n := 1
		for _, d := range shape {
			n *= d
		}
		h = h[:len(h)-4*n]
		if !bytes.HasPrefix(h, []byte("\x93NUMPY\x01\x00")) || len(h)%64 != 0 || h[len(h)-1] != '\n' || int(h[8])|int(h[9])<<8 != len(h)-10 {
			t.Errorf("header for %v: %q", shape, h)
		}
		if !strings.Contains(string(h), "'shape': "+shmtensor.FormatShape(shape)+", }") {
			t.Errorf("header for %v: %q", shape, h)
		}
	}
}

// TestProgressCopy: the reader and writer of import and export move the
// bar in chunks and stop at an interrupt.
func TestProgressCopy(t *testing.T) {
	data := make([]byte, 3*copyChunk+5)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var buf bytes.Buffer
	p := &progress{total: int64(len(data))}
	pw := &progressWriter{ctx, &countWriter{w: &buf}, p}
	if n, err := pw.Write(data); n != len(data) || err != nil || p.cur != int64(len(data)) || !bytes.Equal(buf.Bytes(), data) {
		t.Fatalf("Write: %d, %v; progress %d", n, err, p.cur)
	}
	if got := pw.w.(*countWriter).writes; got != 4 {
		t.Errorf("Write of %d bytes made %d writes, want 4 chunks", len(data), got)
	}
	p = &progress{total: int64(len(data))}
	pr := &progressReader{ctx, bytes.NewReader(data), p}
	if b, err := io.ReadAll(pr); err != nil || len(b) != len(data) || p.cur != int64(len(data)) {
		t.Fatalf("ReadAll: %d bytes, %v; progress %d", len(b), err, p.cur)
	}
	cancel()
	if n, err := pw.Write(data); n != 0 || !errors.Is(err, errInterrupted) {
		t.Errorf("Write after the interrupt: %d, %v", n, err)
	}
	if n, err := pr.Read(data); n != 0 || !errors.Is(err, errInterrupted) {
		t.Errorf("Read after the interrupt: %d, %v", n, err)
	}
}

type countWriter struct {
	w      io.Writer
	writes int
}

func (c *countWriter) Write(b []byte) (int, error) {
	c.writes++
	return c.w.Write(b)
}

func TestProgressLine(t *testing.T) {
	if got := progressLine("import", 0, 100<<20); !strings.HasPrefix(got, "import [>") || !strings.Contains(got, "  0% 0 B / 100.0 MiB") {
		t.Errorf("%q", got)
	}
	if got := progressLine("export", 50<<20, 100<<20); !strings.Contains(got, " 50% 50.0 MiB / 100.0 MiB") {
		t.Errorf("%q", got)
	}
	if got := progressLine("export", 100<<20, 100<<20); !strings.Contains(got, "[==============================] 100%") {
		t.Errorf("%q", got)
	}
}

// needNumpy returns a Python interpreter with numpy, skipping the test
// without one (failing it under CI=true).
func needNumpy(t *testing.T) string { return numpytest.Need(t) }

// TestShowMatchesNumpy: show prints what numpy's print(a) prints, for every
// dtype, scientific and fixed notation, nan and inf, wrapping, summarising,
// Fortran order, empty and 0-d arrays.
func TestShowMatchesNumpy(t *testing.T) {
	needNumpy(t)
	dir := t.TempDir()
	numpytest.Run(t, `
import sys, os, numpy as np
rng = np.random.default_rng(1)
cases = {
 'f64': np.arange(12, dtype=np.float64).reshape(3, 4) / 4,
 'sci': np.array([1e10, 1.5e-5, -3.0]),
 'nonfinite': np.array([0.1, 1/3, 2.0, np.nan, -np.inf]),
 'wrap': rng.standard_normal((5, 20)),
 'summary': rng.standard_normal((50, 50)),
 'f32': np.arange(2000, dtype=np.float32).reshape(10, 200),
 'f32digits': np.array([0.1, 1.2345e10], dtype=np.float32),
 'f16': np.array([0.1, 1000.5, -2], dtype=np.float16),
 'f16fixed': np.array([0.1, 1.5, -2], dtype=np.float16),
 '4d': np.arange(3*4*5*6, dtype=np.float64).reshape(3, 4, 5, 6) * 1e-3,
 'i16': np.arange(-5, 100, dtype=np.int16).reshape(3, 35),
 'u8': np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
 'i64long': np.arange(3000, dtype=np.int64),
 'i64ext': np.array([2**63-1, -2**63], dtype=np.int64),
 'u64': np.array([2**64-1, 0], dtype=np.uint64),
 'bool': np.array([True, False, True]),
 'boolbig': rng.random((40, 40)) > 0.5,
 'booltrue': np.ones((2, 2), dtype=bool),
 'booltrue1': np.array([True]),
 'boolfalse': np.zeros((2, 3), dtype=bool),
 'booltruebig': np.ones(2000, dtype=bool),
 'c128': np.array([1+2j, 3.5-4j, -1e-3j]),
 'c64': (rng.standard_normal((4, 4)) + 1j*rng.standard_normal((4, 4))).astype(np.complex64),
 'fortran': np.asfortranarray(np.arange(24, dtype=np.float64).reshape(2, 3, 4)),
 'empty': np.zeros((0, 3)),
 'scalar': np.array(3.5),
 'scalarint': np.array(7, dtype=np.int32),
 'scalarsmall': np.array(1e-5),
 'scalarc': np.array(1+2j),
 'scalarbool': np.array(True),
 'nanonly': np.array([np.nan, np.inf]),
 'mixed': np.array([1e-5, 1, 100]),
 'large': np.array([123456789.0, 1.0]),
 'linspace': np.linspace(0, 1, 30).reshape(3, 10),
}
for k, a in cases.items():
    np.save(os.path.join(sys.argv[1], k + '.npy'), a)
    with open(os.path.join(sys.argv[1], k + '.txt'), 'w') as f:
        f.write(str(a) + '\n')
`, dir)
	files, _ := filepath.Glob(filepath.Join(dir, "*.npy"))
	if len(files) < 30 {
		t.Fatalf("numpy wrote %d files", len(files))
	}
	for _, f := range files {
		wantOut, err := os.ReadFile(strings.TrimSuffix(f, ".npy") + ".txt")
		if err != nil {
			t.Fatal(err)
		}
		// An explicit --max above the size must print what numpy printed
		// whenever numpy did not summarise.
		for _, args := range [][]string{{"show"}, {"show", "--max", "2500"}} {
			if len(args) > 1 && strings.Contains(string(wantOut), "...") {
				continue
			}
			r := want(t, 0, append(args, "file://"+f)...)
			if r.stdout != string(wantOut) {
				t.Errorf("%s %s:\n%s\nnumpy:\n%s", strings.Join(args, " "), filepath.Base(f), r.stdout, wantOut)
			}
		}
	}
}

// TestBrokenSegments: list --all shows a truncated segment with the reason,
// rm refuses it with a hint, rm --force removes it and still refuses a file
// without a tensor magic.
func TestBrokenSegments(t *testing.T) {
	needLinux(t)
	broken := uniqueName(t)
	want(t, 0, "create", broken, "float64", "100")
	if err := os.Truncate("/dev/shm/"+broken, 4096+8); err != nil {
		t.Fatal(err)
	}
	foreign := uniqueName(t)
	if err := os.WriteFile("/dev/shm/"+foreign, []byte("someone else's shared memory"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := want(t, 0, "list")
	if strings.Contains(r.stdout, broken) {
		t.Errorf("list shows a broken segment:\n%s", r.stdout)
	}
	r = want(t, 0, "list", "--all")
	contains(t, "list --all", r.stdout, "BROKEN", broken, "needs 800 bytes", "rm --force")
	if strings.Contains(r.stdout, foreign) {
		t.Errorf("list --all shows a file without a tensor magic:\n%s", r.stdout)
	}
	r = want(t, 0, "list", "--all", "--json")
	var recs []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &recs); err != nil {
		t.Fatalf("list --all --json: %v\n%s", err, r.stdout)
	}
	found := false
	for _, rec := range recs {
		if rec["name"] == "shm://"+broken {
			found = true
			if e, _ := rec["error"].(string); !strings.Contains(e, "needs 800 bytes") {
				t.Errorf("list --all --json: %v", rec)
			}
		}
	}
	if !found {
		t.Errorf("list --all --json lacks %s:\n%s", broken, r.stdout)
	}
	r = want(t, 1, "rm", broken)
	contains(t, "rm broken", r.stderr, "refusing to remove it", "it carries a tensor magic: rm --force removes such a broken segment")
	r = want(t, 1, "rm", "--force", foreign)
	contains(t, "rm --force foreign", r.stderr, "no tensor magic")
	if _, err := os.Stat("/dev/shm/" + foreign); err != nil {
		t.Fatalf("rm --force removed a file without a tensor magic")
	}
	r = want(t, 0, "rm", "--force", broken)
	contains(t, "rm --force", r.stdout, "removed shm://"+broken)
	if _, err := os.Stat("/dev/shm/" + broken); err == nil {
		t.Fatalf("rm --force left the broken segment")
	}
}

// TestAnyOwner: show and export refuse a segment of another user, naming
// --any-owner, and read it with --any-owner.
func TestAnyOwner(t *testing.T) {
	needLinux(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a segment to another user")
	}
	name := uniqueName(t)
	want(t, 0, "create", name, "int8", "3")
	if err := os.Chown("/dev/shm/"+name, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "x.npy")
	r := want(t, 1, "show", name)
	contains(t, "show", r.stderr, "permission denied", "uid 65534", "--any-owner")
	r = want(t, 1, "export", name, file)
	contains(t, "export", r.stderr, "permission denied", "--any-owner")
	r = want(t, 0, "show", "--any-owner", name)
	contains(t, "show --any-owner", r.stdout, "[0 0 0]")
	want(t, 0, "export", "--any-owner", name, file)
	os.Chown("/dev/shm/"+name, 0, 0)
}

// TestTooBigHeaders: numpy refuses a shape whose item size times its
// non-zero dimensions overflows ("array is too big"), empty or not, and so
// do info and export; an empty shape just within the limit has byte strides
// that fit and exports to Zarr.
func TestTooBigHeaders(t *testing.T) {
	dir := t.TempDir()
	header := func(dict string) string {
		file := filepath.Join(dir, fmt.Sprintf("h%d.npy", len(dict)))
		total := (10 + len(dict) + 1 + 63) / 64 * 64
		b := append([]byte("\x93NUMPY\x01\x00"), byte(total-10), byte((total-10)>>8))
		b = append(b, dict...)
		b = append(b, bytes.Repeat([]byte(" "), total-1-len(b))...)
		if err := os.WriteFile(file, append(b, '\n'), 0o600); err != nil {
			t.Fatal(err)
		}
		return "file://" + file
	}
	for _, shape := range []string{"(0, 1152921504606846976)", "(1152921504606846976, 0)", "(0, 9223372036854775807)"} {
		name := header("{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }")
		// Where int is 32 bits the dimension itself does not fit.
		big, numpy := "is too big", "numpy: array is too big"
		if strconv.IntSize < 64 {
			big, numpy = "is too large", "is too large"
		}
		r := want(t, 1, "info", "--json", name)
		contains(t, "info of "+shape, r.stderr, big, numpy)
		r = want(t, 1, "export", name, filepath.Join(dir, "x.zarr"))
		contains(t, "export of "+shape, r.stderr, big)
	}
	name := header("{'descr': '|i1', 'fortran_order': False, 'shape': (0, 9223372036854775807), }")
	var in struct {
		Strides     []int64 `json:"strides"`
		ByteStrides []int64 `json:"byte_strides"`
	}
	if strconv.IntSize == 64 {
		if err := json.Unmarshal([]byte(want(t, 0, "info", "--json", name).stdout), &in); err != nil {
			t.Fatal(err)
		}
		if len(in.ByteStrides) != 2 || in.ByteStrides[0] != math.MaxInt64 || in.ByteStrides[1] != 1 {
			t.Errorf("int8 (0, 2**63-1): byte strides %v, want [%d 1]", in.ByteStrides, int64(math.MaxInt64))
		}
		want(t, 0, "export", name, filepath.Join(dir, "empty.zarr"))
		b, err := os.ReadFile(filepath.Join(dir, "empty.zarr", ".zarray"))
		var meta struct{ Shape, Chunks []int64 }
		if err == nil {
			err = json.Unmarshal(b, &meta)
		}
		if err != nil || !slices.Equal(meta.Shape, []int64{0, math.MaxInt64}) || !slices.Equal(meta.Chunks, []int64{1, 4 << 20}) {
			t.Errorf("exported .zarray: %s, %v", b, err)
		}
	}
}

// TestBigEndianSegment: info on a big-endian .npy in /dev/shm says it is
// big-endian and how numpy converts it, not "element type mismatch"; list
// --all shows why it is listed there; rm deletes it without --force, being a
// valid .npy file.
func TestBigEndianSegment(t *testing.T) {
	needLinux(t)
	be, err := os.ReadFile("../../testdata/npy/f64be_2.npy")
	if err != nil {
		t.Fatal(err)
	}
	name := uniqueName(t)
	if err := os.WriteFile("/dev/shm/"+name, be, 0o600); err != nil {
		t.Fatal(err)
	}
	const says = "big-endian '>f8' data: shmtensor maps only native little-endian element types; numpy can convert it with arr.astype('<f8')"
	for _, cmd := range []string{"info", "show"} {
		r := want(t, 1, cmd, name)
		contains(t, cmd+" of a big-endian .npy", r.stderr, says)
		if strings.Contains(r.stderr, "element type mismatch") {
			t.Errorf("%s of a big-endian .npy: %s", cmd, r.stderr)
		}
	}
	r := want(t, 0, "list", "--all")
	contains(t, "list --all", r.stdout, name, says, "valid .npy files that shmtensor does not map; shmtensor rm NAME removes them")
	if h, n := strings.Index(r.stdout, "BIG-ENDIAN .NPY"), strings.Index(r.stdout, name); h < 0 || n < h {
		t.Errorf("list --all does not list the big-endian .npy under BIG-ENDIAN .NPY but as broken:\n%s", r.stdout)
	}
	r = want(t, 0, "rm", name)
	contains(t, "rm of a big-endian .npy", r.stdout, "removed shm://"+name)
	if _, err := os.Stat("/dev/shm/" + name); !os.IsNotExist(err) {
		t.Fatalf("rm left the big-endian .npy: %v", err)
	}
	// One whose header lies about its size is still refused without --force.
	if err := os.WriteFile("/dev/shm/"+name, be[:len(be)-1], 0o600); err != nil {
		t.Fatal(err)
	}
	r = want(t, 1, "rm", name)
	contains(t, "rm of a short big-endian .npy", r.stderr, "needs 16 bytes", "rm --force")
}

// TestFileHereHint: a bare name that is not a segment but a file in the
// current directory gets the file:// name that opens it.
func TestFileHereHint(t *testing.T) {
	needLinux(t)
	dir := t.TempDir()
	t.Chdir(dir)
	name := uniqueName(t) + ".npy"
	if err := os.WriteFile(filepath.Join(dir, name), []byte("not even npy"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := want(t, 1, "show", name)
	contains(t, "stderr", r.stderr, "segment does not exist", "for the file "+name+" here, give file://"+name)
	r = want(t, 1, "show", uniqueName(t))
	contains(t, "stderr", r.stderr, `"shmtensor list" shows the segments there are`)
}

// TestExportImportStandardStreams: "export NAME -" writes the .npy file to
// standard output and says what it wrote on standard error; "import -
// NAME" reads one from standard input (here a pipe, not a file); a bundle
// goes the same way as a safetensors stream.
func TestExportImportStandardStreams(t *testing.T) {
	needLinux(t)
	name := uniqueName(t)
	x, err := shmtensor.Create[int16](name, []int{3, 5})
	if err != nil {
		t.Fatal(err)
	}
	for i := range x.Data() {
		x.Data()[i] = int16(i*7 - 20)
	}
	x.Close()
	r := want(t, 0, "export", name, "-")
	contains(t, "stderr", r.stderr, "exported shm://"+name+" to standard output: int16 (3, 5)")
	var file bytes.Buffer
	seg, err := shmtensor.Attach[int16](name, shmtensor.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	seg.Segment().WriteTo(&file)
	seg.Close()
	if r.stdout != file.String() {
		t.Fatalf("export to - wrote %d bytes, not the %d of the .npy file", len(r.stdout), file.Len())
	}
	if _, err := os.Stat("-"); err == nil {
		t.Fatal(`export made a file named "-"`)
	}

	back := uniqueName(t)
	cmd := exec.Command(exe, "import", "-", back)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { io.WriteString(in, r.stdout); in.Close() }()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("import -: %v\n%s", err, out.String())
	}
	contains(t, "import output", out.String(), "imported standard input into shm://"+back+": int16 (3, 5)")
	y, err := shmtensor.Attach[int16](back)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	if y.At(2, 4) != 14*7-20 {
		t.Fatalf("imported element (2, 4) = %d", y.At(2, 4))
	}
}

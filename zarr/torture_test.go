//go:build torture && linux

// The Zarr part of the adversarial campaign (docs/RELIABILITY.md):
// go test -tags torture -run Torture -v ./zarr

package zarr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmtensor/shmtensor"
)

var tortureShort = os.Getenv("SHMTENSOR_TORTURE") == "short"

// tortureResult logs a case's counts as one RESULT line and appends it to
// the report, as the root package's cases do.
func tortureResult(t *testing.T, kv ...any) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "RESULT %s:", strings.TrimPrefix(t.Name(), "TestTorture"))
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%v", kv[i], kv[i+1])
	}
	t.Log(b.String())
	if p := os.Getenv("SHMTENSOR_TORTURE_REPORT"); p != "" {
		if f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintln(f, b.String())
			f.Close()
		}
	}
}

// TestTortureHostileStores imports stores written by Write and then damaged
// at random: chunks truncated, extended, flipped, removed, replaced by a
// FIFO or by a link to a file outside the store (holding a marker value),
// key directories linked outside, .zarray flipped, extended with garbage,
// replaced by a FIFO or linked to /dev/zero or /dev/urandom, chunks
// declared huge. Every import must end with a segment or an *Error, never
// block, never read outside the store, and never leave a segment behind.
func TestTortureHostileStores(t *testing.T) {
	rounds := 2000
	if tortureShort {
		rounds = 60
	}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 20))
	outside := t.TempDir()
	dtypes := []shmtensor.DType{shmtensor.Uint8, shmtensor.Int16, shmtensor.Float32, shmtensor.Float64, shmtensor.Complex128, shmtensor.Bool}
	const mutations = 12
	var imported, refused, outsideRead, slow, leftovers, badErrors int
	var byMutation [mutations][2]int // imported, refused
	var worst time.Duration
	var maxAlloc uint64
	for round := range rounds {
		dt := dtypes[r.IntN(len(dtypes))]
		shape := make([]int, 1+r.IntN(3))
		chunks := make([]int, len(shape))
		for i := range shape {
			shape[i] = 1 + r.IntN(9)
			chunks[i] = 1 + r.IntN(12)
		}
		seg := fileSeg(t, dt, shape, uint64(round))
		comp := []Compressor{{}, Zlib(1), Gzip(6)}[r.IntN(3)]
		sep := []string{".", "/"}[r.IntN(2)]
		dir := filepath.Join(t.TempDir(), "s.zarr")
		if err := Write(dir, seg, &Options{Chunks: chunks, Compressor: comp, DimensionSeparator: sep, Workers: 2}); err != nil {
			t.Fatal(err)
		}
		a, _ := ReadArray(dir)
		var keys []string
		for k := range a.NumChunks() {
			idx := make([]int, len(shape))
			unravel(k, a.grid, idx)
			keys = append(keys, a.ChunkKey(idx))
		}
		key := keys[r.IntN(len(keys))]
		chunkPath := filepath.Join(dir, filepath.FromSlash(key))
		marker := bytes.Repeat([]byte{0x5a}, a.ChunkBytes())
		m := r.IntN(mutations)
		linkedOut := false
		switch m {
		case 0: // untouched
		case 1:
			b, _ := os.ReadFile(chunkPath)
			os.WriteFile(chunkPath, b[:r.IntN(len(b))], 0o600)
		case 2:
			f, _ := os.OpenFile(chunkPath, os.O_APPEND|os.O_WRONLY, 0)
			f.Write(bytes.Repeat([]byte{byte(r.Uint32())}, 1+r.IntN(100)))
			f.Close()
		case 3:
			b, _ := os.ReadFile(chunkPath)
			b[r.IntN(len(b))] ^= byte(1 + r.IntN(255))
			os.WriteFile(chunkPath, b, 0o600)
		case 4:
			os.Remove(chunkPath)
		case 5:
			os.Remove(chunkPath)
			syscall.Mkfifo(chunkPath, 0o600)
		case 6:
			p := filepath.Join(outside, fmt.Sprint(round))
			os.WriteFile(p, marker, 0o600)
			os.Remove(chunkPath)
			os.Symlink(p, chunkPath)
			linkedOut = true
		case 7:
			if sep == "/" && len(shape) > 1 {
				d := filepath.Dir(chunkPath)
				p := filepath.Join(outside, fmt.Sprint("d", round))
				os.Rename(d, p)
				os.Symlink(p, d)
				linkedOut = true
			}
		case 8:
			os.Remove(filepath.Join(dir, ".zarray"))
			os.Symlink([]string{"/dev/zero", "/dev/urandom"}[r.IntN(2)], filepath.Join(dir, ".zarray"))
		case 9:
			os.Remove(filepath.Join(dir, ".zarray"))
			syscall.Mkfifo(filepath.Join(dir, ".zarray"), 0o600)
		case 10:
			b, _ := os.ReadFile(filepath.Join(dir, ".zarray"))
			switch r.IntN(3) {
			case 0:
				b[r.IntN(len(b))] = byte(r.Uint32())
			case 1:
				b = append(b, "}garbage"...)
			case 2:
				b = b[:r.IntN(len(b))]
			}
			os.WriteFile(filepath.Join(dir, ".zarray"), b, 0o600)
		case 11: // a chunk declared huge over the same files
			b, _ := os.ReadFile(filepath.Join(dir, ".zarray"))
			huge := strings.Replace(string(b), fmt.Sprintf("\"chunks\": [\n        %d", a.chunks[0]), "\"chunks\": [\n        33554432", 1)
			os.WriteFile(filepath.Join(dir, ".zarray"), []byte(huge), 0o600)
		}

		name := "file://" + filepath.Join(t.TempDir(), "dst.npy")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		got, err := Import(dir, name, &ImportOptions{Context: ctx})
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		cancel()
		worst = max(worst, took)
		maxAlloc = max(maxAlloc, after.TotalAlloc-before.TotalAlloc)
		if took > 5*time.Second {
			slow++
		}
		if err == nil {
			imported++
			byMutation[m][0]++
			if linkedOut && bytes.Contains(got.Bytes(), marker[:min(len(marker), 8)]) {
				outsideRead++
			}
			if m == 0 && !bytes.Equal(got.Bytes(), seg.Bytes()) {
				t.Errorf("round %d: an untouched store imported different data", round)
			}
			got.Close()
			continue
		}
		refused++
		byMutation[m][1]++
		var ze *Error
		if !errors.As(err, &ze) || errors.Is(err, context.DeadlineExceeded) {
			badErrors++
			t.Errorf("round %d, mutation %d: %v", round, m, err)
		}
		if _, serr := shmtensor.Stat(name); serr == nil {
			leftovers++
		}
		if m == 0 {
			t.Errorf("round %d: an untouched store was refused: %v", round, err)
		}
	}
	if outsideRead != 0 || leftovers != 0 || badErrors != 0 || slow != 0 {
		t.Errorf("outside data imported %d, leftovers %d, bad errors %d, slow imports %d", outsideRead, leftovers, badErrors, slow)
	}
	var per []string
	for m, c := range byMutation {
		per = append(per, fmt.Sprintf("%d:%d/%d", m, c[0], c[1]))
	}
	tortureResult(t, "rounds", rounds, "imported", imported, "refused", refused, "outside_read", outsideRead,
		"leftovers", leftovers, "slow", slow, "worst", worst.Round(time.Millisecond), "max_total_alloc_KiB", maxAlloc>>10,
		"by_mutation(imported/refused)", strings.Join(per, ","))
}

package floor

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestStreams: frames written into either kind of stream come out whole
// and in order, however read(2) cuts them, and the end of the stream ends
// Frames.
func TestStreams(t *testing.T) {
	for _, kind := range []string{"pipe", "unix"} {
		t.Run(kind, func(t *testing.T) {
			r, w, err := Pair(kind)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(r)
			const n, frames = 1000, 300 // frames that straddle the reads
			done := make(chan error, 1)
			go func() {
				defer unix.Close(w)
				for i := range frames {
					if err := WriteFull(w, bytes.Repeat([]byte{byte(i)}, n)); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			i := 0
			err = Frames(r, n, 4096, func(f []byte) bool {
				if len(f) != n || f[0] != byte(i) || f[n-1] != byte(i) {
					t.Errorf("frame %d: %d bytes, %d … %d", i, len(f), f[0], f[n-1])
				}
				i++
				return true
			})
			if err != nil || i != frames {
				t.Fatalf("Frames: %v after %d frames", err, i)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
	r, w, err := Pair("pipe")
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(r)
	WriteFull(w, []byte("ab"))
	unix.Close(w)
	b := make([]byte, 3)
	if err := ReadFull(r, b); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadFull of a short stream: %v", err)
	}
	if err := ReadFull(r, b); !errors.Is(err, io.EOF) {
		t.Fatalf("ReadFull of an ended stream: %v", err)
	}
	if _, _, err := Pair("carrier pigeon"); err == nil {
		t.Fatal("Pair made an unknown kind of stream")
	}
}

// TestAsleep reads the state of this process's threads without error
// (whether they sleep depends on the moment).
func TestAsleep(t *testing.T) {
	if _, err := Asleep(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, err := Asleep(-1); err == nil {
		t.Fatal("Asleep of no process")
	}
}

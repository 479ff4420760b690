package sys

import "testing"

func TestMapsLine(t *testing.T) {
	for _, c := range []struct {
		line string
		id   ID
		ok   bool
	}{
		{"7f1c2a000000-7f1c2a001000 rw-s 00000000 00:1a 12345                      /dev/shm/x", ID{Dev: 0x1a, Ino: 12345}, true},
		{"7f1c2a000000-7f1c2a001000 r--s 00001000 fd:01 987 /data/x.npy (deleted)", ID{Dev: 0xfd<<8 | 1, Ino: 987}, true},
		{"7ffd5f3e0000-7ffd5f401000 rw-p 00000000 00:00 0                          [stack]", ID{}, false},
		{"garbage", ID{}, false},
		{"a-b rw-p 0 zz:01 5 /x", ID{}, false},
	} {
		id, ok := ParseMapsLine([]byte(c.line))
		if ok != c.ok || id != c.id {
			t.Errorf("ParseMapsLine(%q) = %v, %v; want %v, %v", c.line, id, ok, c.id, c.ok)
		}
	}
}

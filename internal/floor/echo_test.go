package floor

import (
	"bytes"
	"strings"
	"testing"
)

func TestEcho(t *testing.T) {
	var out bytes.Buffer
	if err := Echo(strings.NewReader("ping\x00\xff"), &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "ping\x00\xff" {
		t.Fatalf("Echo wrote %q", out.String())
	}
}

// Package units formats quantities for people: the library's error
// messages, the shmtensor command and the comparison program share it.
package units

import "fmt"

// Bytes formats n bytes with binary units: "512 B", "4.0 KiB", "1.5 MiB",
// "2.0 GiB", up to PiB.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

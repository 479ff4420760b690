//go:build !linux && !darwin && !freebsd

package sys

func RenameNoReplace(from, to string) error { return ErrNoRenameFlags }
func Exchange(a, b string) error            { return ErrNoExchange }

package sys

// RenameNoReplace fails with ErrNoRenameFlags: callers fall back to link.
func RenameNoReplace(from, to string) error { return ErrNoRenameFlags }

// Exchange is not offered by FreeBSD's rename: callers check the target
// and rename over it in two steps.
func Exchange(a, b string) error { return ErrNoExchange }

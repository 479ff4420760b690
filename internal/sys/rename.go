package sys

import "errors"

var (
	// ErrNoRenameFlags reports a system or filesystem without
	// RENAME_NOREPLACE.
	ErrNoRenameFlags = errors.New("rename without replacing not supported")
	// ErrNoExchange reports a system or filesystem that cannot swap two
	// names atomically.
	ErrNoExchange = errors.New("atomic exchange of names not supported")
)

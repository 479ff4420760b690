//go:build !linux

package main

// hugePages reports nothing where the system does not say which pages are
// huge.
func hugePages(name string) (string, bool) { return "", false }

package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

var cmdVersion = &Command{
	UsageLine: "version",
	Short:     "print the version of shmtensor and of Go",
	Long: `
Version prints the version of the shmtensor module the command was built
from, as recorded in the binary: a release such as v1.2.0 when installed
with "go install ...@v1.2.0", a pseudo-version or "(devel)" when built from
a checkout, followed by the version control revision if it is recorded,
the Go version that built it, and the operating system and architecture.
`,
}

func init() { cmdVersion.Run = runVersion }

func runVersion(_ *Command, _ []string) error {
	fmt.Println(versionLine())
	return nil
}

// versionLine is "shmtensor v1.2.0 (revision 0123abcd, modified) go1.26.0
// linux/amd64", with what the build recorded.
func versionLine() string {
	version, rev, modified := "unknown", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	line := "shmtensor " + version
	if rev != "" {
		line += " (revision " + rev[:min(len(rev), 12)]
		if modified {
			line += ", modified"
		}
		line += ")"
	}
	return fmt.Sprintf("%s %s %s/%s", line, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

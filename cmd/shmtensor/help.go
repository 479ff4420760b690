package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

var cmdHelp = &Command{
	UsageLine: "help [COMMAND | TOPIC]",
	Short:     "show help for a command or topic",
	Long: `
Help prints the help of a command or topic, or without an argument the list
of commands and topics, on standard output.
`,
	MaxArgs: 1,
}

// mainLong introduces the command, in "shmtensor help" and at the top of
// the generated documentation.
const mainLong = `
Shmtensor lists, inspects, creates, prints, imports, exports and deletes
tensors in POSIX shared memory, the way ipcs and ls /dev/shm are used, but
aware of element types and shapes. Its segments are the ones the shmtensor
Go package makes: NumPy .npy files in /dev/shm (numpy.load opens them
directly) or Python SharedArray's layout. It also makes channels, streams
of tensors from one producer to many subscribers, feeds them from standard
input and prints what they carry.
`

// mainMore follows the command and topic lists in the documentation.
const mainMore = `
Options may come before, between or after the arguments, as -opt or --opt;
after "--" everything is an argument. "shmtensor help COMMAND",
"shmtensor COMMAND -h" and "shmtensor COMMAND --help" print the help of a
command on standard output.

The exit status is 0 on success and for help, 1 when an operation failed,
2 for bad usage (unknown command or option, missing or malformed arguments,
with the usage on standard error), 3 when tail finds that the channel has
no producer, and 130 when import, export, wait, send, tail or demo is
interrupted (Ctrl-C), or lock while it waits. Wait also exits with 1 when
its --timeout runs out, and so do lock and tail; lock otherwise exits with
its command's status.
`

var topicNames = &Command{
	UsageLine: "names",
	Short:     "segment names",
	Long: `
A NAME is the name of a shared memory segment, "x" or "shm://x" (the file
/dev/shm/x on Linux; a POSIX shared memory object on macOS and FreeBSD), or
"file://PATH" for a tensor in a regular file, such as a .npy file:

	shmtensor show file://data.npy

A shared memory name has no "/" in it: for the file /dev/shm/x, give the
name x. Commands report names with their scheme, as in shm://x.
`,
}

var topicJSON = &Command{
	UsageLine: "json",
	Short:     "the JSON output of list, info and doctor",
	Long: `
"shmtensor list --json" prints a JSON array (empty: []) of objects, and
"shmtensor info --json" one object, with these fields, always all present:

	name          string   the segment name with its scheme: "shm://x", "file://a.npy"
	dtype         string   numpy's name: "float64", "int32", "bool", ...
	descr         string   the .npy descriptor: "<f8", "|b1", ...
	itemsize      int      bytes per element
	shape         [int]    the dimensions; [] for a 0-d scalar
	size          int      bytes of the whole segment, header included
	layout        string   "npy" or "sharedarray"
	fortran       bool     true if the data is in column-major order
	data_offset   int      byte offset of the first element
	strides       [int]    strides in elements
	byte_strides  [int]    strides in bytes, as numpy's ndarray.strides
	mode          string   permission bits in octal: "0600"
	uid, gid      int      owner and group ids
	owner, group  string   their names, or the number when unknown
	modified      string   modification time, RFC 3339 in UTC with nanoseconds
	kind          string   "tensor"; "channel" for a channel, whose shape
	                       is its ring's: (slots, *message shape); or
	                       "bundle" for a bundle, whose dtype is "uint8"
	                       and shape [the bytes of its data]
	channel       object   info --json only: for a channel, its state (below);
	                       null for a tensor segment or a bundle, and for a
	                       channel of another user than you and root, which
	                       info does not map (its owner could truncate it)
	bundle        object   info --json only: for a bundle, its tensors and
	                       metadata (below); null for anything else

The channel object of info --json has these fields, always all present:

	message_shape    [int]   the shape of one message
	message_bytes    int     the bytes of one message
	slots            int     the messages the ring holds
	max_subscribers  int     the subscribers the channel takes at once
	policy           string  "block" or "latest"
	sent             int     the messages sent since the channel was made
	closed           bool    the producer ended the stream
	producer_alive   bool    a process is the channel's producer
	epoch            int     1, plus one for each producer that took it over
	subscribers      [obj]   one per subscriber entry in use: entry, pid,
	                         cursor, lag, received, lost (int), alive,
	                         from_newest (bool), as info prints them

The bundle object of info --json has these fields, always all present:

	tensors   [obj]   one per tensor, in the order of their data: name,
	                  dtype (strings), shape ([int]), offset (the byte
	                  offset of its first element in the file) and size
	                  (its bytes; int)
	metadata  object  the string metadata ({} for none)

Names in JSON are JSON strings, so they need no escaping of their own.

"shmtensor doctor --json" prints one object with these fields, always all
present; sizes are in bytes, and -1 stands for unknown or, for a limit,
none:

	dir              string  the directory described: "/dev/shm" or DIR
	fs               object  its filesystem: type ("tmpfs"), mount_point,
	                         options and super_options (strings, as in
	                         /proc/self/mountinfo), huge_pages (a tmpfs's
	                         huge= setting, "never" by default; "" if not a
	                         tmpfs), size, free (int), tmpfs (bool)
	cgroup           object  the memory cgroup's tightest level: version (1
	                         or 2; 0 none), path, dir, limit_file (strings),
	                         limit, usage, room (int: what it can still
	                         charge, reclaimable cache and free swap counted)
	max_map_count    int     vm.max_map_count; 0 where there is none
	mappings         int     the mappings of the doctor process
	map_headroom     int     mappings Create and Attach leave to Go: 1024
	open_files       object  RLIMIT_NOFILE: cur, max (int)
	open_now         int     descriptors open in the doctor process
	memlock          object  RLIMIT_MEMLOCK in bytes: cur, max (int)
	largest_segment  int     the largest segment a Create can reserve now
	more_segments    int     how many more segments a process like doctor
	                         can hold open (a descriptor and a mapping each)
`,
}

// helpTopics are the help topics that are not commands.
var helpTopics = []*Command{topicNames, topicJSON, topicBundles}

var topicBundles = &Command{
	UsageLine: "bundles",
	Short:     "bundles: many named tensors in one segment",
	Long: `
A bundle is one segment holding many named tensors of any element types
and shapes, and string metadata, made by the Go package's CreateBundle or
by "shmtensor import FILE.safetensors NAME". The segment is a safetensors
file whose header is padded so that its data starts at a page, and each
tensor at a multiple of its element size: every safetensors reader opens
it in place, and every view of it is aligned. It is published, replaced
and deleted as one segment. A tensor of a bundle is named by its key,
such as "model.embed.weight":

	shmtensor import model.safetensors model    a bundle from a Hugging Face file
	shmtensor list                              kind "bundle", its dtypes, "N tensors"
	shmtensor info model                        each tensor's key, dtype, shape, size, offset; the metadata
	shmtensor show model KEY                    one tensor, printed as numpy prints it
	shmtensor export model KEY w.npy            one tensor as a .npy file
	shmtensor export model out.safetensors      the whole bundle as a standard safetensors file
	shmtensor serve model                       GET /model/KEY.npy and /model.safetensors
	shmtensor rm model                          the whole bundle

Element types are safetensors': bool, the integers, float16, bfloat16,
float32, float64, complex64, and the 8-bit floats float8_e4m3fn and
float8_e5m2 (ml_dtypes' names). numpy has no bfloat16 nor 8-bit floats:
show decodes them, but they are not exported or served as .npy (the
whole bundle is). A command given a bundle where it wants one tensor
(show or export without KEY) says so and names some keys; a KEY the
bundle lacks is an error naming it and some of those there are.
`,
}

func init() { cmdHelp.Run = runHelp }

func runHelp(_ *Command, args []string) error {
	if len(args) == 0 {
		printMainUsage(os.Stdout)
		return nil
	}
	if args[0] == "documentation" {
		return writeDocumentation(os.Stdout)
	}
	if c := lookup(args[0]); c != nil {
		c.printHelp(os.Stdout)
		return nil
	}
	for _, t := range helpTopics {
		if t.Name() == args[0] {
			fmt.Fprintln(os.Stdout, strings.TrimSpace(t.Long))
			return nil
		}
	}
	msg := fmt.Sprintf("unknown command or topic %q", args[0])
	if s := suggest(args[0], slices.Concat(commands, helpTopics)); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return &usageError{msg}
}

// printMainUsage prints the usage of the whole command: what it is, its
// commands and its help topics.
func printMainUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: shmtensor COMMAND [ARGUMENTS]\n\n%s\n\n", strings.TrimSpace(mainLong))
	printLists(w)
}

// printLists prints the lists of commands and help topics.
func printLists(w io.Writer) {
	width := 0
	for _, c := range slices.Concat(commands, helpTopics) {
		if !c.Hidden {
			width = max(width, len(c.Name()))
		}
	}
	fmt.Fprint(w, "The commands are:\n\n")
	for _, c := range commands {
		if !c.Hidden {
			fmt.Fprintf(w, "\t%-*s %s\n", width, c.Name(), c.Short)
		}
	}
	fmt.Fprint(w, "\nUse \"shmtensor help COMMAND\" for more information about a command.\n\nAdditional help topics:\n\n")
	for _, t := range helpTopics {
		fmt.Fprintf(w, "\t%-*s %s\n", width, t.Name(), t.Short)
	}
	fmt.Fprint(w, "\nUse \"shmtensor help TOPIC\" for more information about that topic.\n")
}

// writeDocumentation writes alldocs.go, the package documentation, made of
// the help texts ("shmtensor help documentation"; see TestDocsUpToDate).
func writeDocumentation(w io.Writer) error {
	var doc strings.Builder
	fmt.Fprintf(&doc, "%s\n\nUsage:\n\n\tshmtensor COMMAND [ARGUMENTS]\n\n", strings.TrimSpace(mainLong))
	printLists(&doc)
	fmt.Fprintf(&doc, "\n%s\n", strings.TrimSpace(mainMore))
	for _, c := range commands {
		if c.Hidden {
			continue
		}
		fmt.Fprintf(&doc, "\n# %s\n\nUsage:\n\n\tshmtensor %s\n\n%s\n", capitalize(c.Short), c.UsageLine, strings.TrimSpace(c.Long))
		if opts := c.optionsText(); opts != "" {
			fmt.Fprintf(&doc, "\nOptions:\n\n%s", opts)
		}
	}
	for _, t := range helpTopics {
		fmt.Fprintf(&doc, "\n# %s\n\n%s\n", capitalize(t.Short), strings.TrimSpace(t.Long))
	}

	bw := bufio.NewWriter(w)
	fmt.Fprint(bw, "// Code generated by \"go test -run=TestDocsUpToDate -fixdocs\"; DO NOT EDIT.\n"+
		"// Edit the help texts in the other files and run \"go generate\" to update this one.\n\n")
	for line := range strings.Lines(doc.String()) {
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			fmt.Fprintln(bw, "//")
		case strings.HasPrefix(line, "\t"):
			fmt.Fprintf(bw, "//%s\n", line)
		default:
			fmt.Fprintf(bw, "// %s\n", line)
		}
	}
	fmt.Fprint(bw, "package main\n")
	return bw.Flush()
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// suggest returns the visible command or topic among cs closest to name,
// if it is close.
func suggest(name string, cs []*Command) string {
	best, bestD := "", 3
	for _, c := range cs {
		if c.Hidden {
			continue
		}
		if d := editDistance(name, c.Name()); d < bestD {
			best, bestD = c.Name(), d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

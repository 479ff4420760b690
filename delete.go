package shmtensor

// Delete unlinks the tensor segment under the name. It refuses, with
// ErrNotTensor, anything that is not a valid tensor segment, which is left
// untouched. Delete takes the name's file at one instant: if other
// processes replace or re-create the segment while Delete works, the
// segment removed is the one the name held at that instant, validated in
// turn, and a segment created under the name after it stays. If a file
// that is not a tensor segment is put under the name meanwhile (rename,
// renameat2 RENAME_EXCHANGE), that file is not removed either: it keeps
// the name, and Delete fails with an error wrapping ErrNotTensor. Nothing
// is left under a private name (see docs/formats.md, "Deleting safely").
// A name that no longer exists, or that another process deleted first,
// fails with ErrNotExist. Processes that have the segment mapped keep
// their mappings, which stay valid; the memory is freed when the last one
// closes it.
// A valid .npy file of a big-endian element type, which Attach refuses
// (ErrDType), is a tensor segment all the same: Delete removes it.
func Delete(name string) error {
	n, err := parseName(name)
	if err != nil {
		return &Error{Op: "delete", Name: name, Err: err}
	}
	if err := deleteName(n); err != nil {
		return &Error{Op: "delete", Name: n.name, Err: err}
	}
	return nil
}

func deleteName(n segName) error {
	f, err := openFile(n, false)
	if err != nil {
		return err
	}
	defer f.close()
	if _, err := readHeader(f); err != nil && !otherByteOrder(err) {
		return err
	}
	return unlinkNamed(n, f, isSegment)
}

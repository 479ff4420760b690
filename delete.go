package shmtensor

// Delete unlinks a tensor segment. It refuses, with ErrNotTensor, anything
// that is not a valid tensor segment, which is left untouched. If another
// file is put under the name while Delete works (rename, renameat2
// RENAME_EXCHANGE), that file is not removed either: Delete fails with an
// error wrapping ErrNotTensor that says the name was replaced (see
// docs/formats.md, "Deleting safely"). Processes that have the segment
// mapped keep their mappings, which stay valid; the memory is freed when
// the last one closes it. A valid .npy file of a big-endian element type,
// which Attach refuses (ErrDType), is a tensor segment all the same: Delete
// removes it.
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
	return unlinkNamed(n, f)
}

package shmtensor

// Delete unlinks a tensor segment. It refuses, with ErrNotTensor, anything
// that is not a valid tensor segment, which is left untouched. Processes that
// have it mapped keep their mappings, which stay valid; the memory is freed
// when the last one closes it.
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
	if _, err := readHeader(f); err != nil {
		return err
	}
	return unlinkNamed(n, f)
}

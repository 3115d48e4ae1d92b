package sqlite

import (
	"os"
	"syscall"
)

// syncFile syncs f's data to disk: with fdatasync(2), which skips the
// file's timestamps, unless full asks for fsync(2) (Options.FullFsync).
func syncFile(f *os.File, full bool) error {
	if full {
		return f.Sync()
	}
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}

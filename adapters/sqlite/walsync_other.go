//go:build !linux

package sqlite

import "os"

// syncFile syncs f's data to disk. Outside Linux it always uses
// (*os.File).Sync: fsync(2), FlushFileBuffers on Windows, and on macOS
// F_FULLFSYNC, which also flushes the drive's cache.
func syncFile(f *os.File, _ bool) error { return f.Sync() }

//go:build !linux

package builder

import (
	"errors"
	"os"
)

var errNoOverlay = errors.New("overlay mounts need linux")

func mountOverlay(string, []string, string, string) error { return errNoOverlay }
func unmount(string) error                                { return nil }
func isMountPoint(string) bool                            { return false }
func mountsBelow(string) ([]string, error)                { return nil, nil }
func unmountBelow(string) error                           { return nil }
func removeTree(dir string) error                         { return os.RemoveAll(dir) }
func isWhiteout(string, os.FileInfo) bool                 { return false }
func isOpaque(string) bool                                { return false }
func syncFS(string) error                                 { return nil }

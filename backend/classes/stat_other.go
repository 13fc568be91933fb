//go:build !linux

package classes

import "io/fs"

func statOf(fi fs.FileInfo) fileStat {
	t := fi.ModTime().Unix()
	return fileStat{mode: unixMode(fi.Mode()), size: fi.Size(), mtime: t, atime: t, ctime: t}
}

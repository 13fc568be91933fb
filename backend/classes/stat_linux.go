package classes

import (
	"io/fs"
	"syscall"
)

func statOf(fi fs.FileInfo) fileStat {
	st := fileStat{mode: unixMode(fi.Mode()), size: fi.Size(), mtime: fi.ModTime().Unix()}
	if s, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.dev, st.ino, st.mode, st.nlink = int64(s.Dev), int64(s.Ino), int64(s.Mode), int64(s.Nlink)
		st.uid, st.gid, st.rdev = int64(s.Uid), int64(s.Gid), int64(s.Rdev)
		st.blksize, st.blocks = int64(s.Blksize), int64(s.Blocks)
		st.atime, st.ctime = s.Atim.Sec, s.Ctim.Sec
	}
	return st
}

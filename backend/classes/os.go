package classes

import (
	"io/fs"
	"os"
	"strings"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
	"sluice/backend/logging"
)

// os reaches the host's file system (paths are relative to the working
// directory, not the codebase) and environment, as Pipy's does: a file that
// cannot be read or written is logged and gives null.

func init() {
	engine.RegisterGlobal(installOS)
	engine.DescribeClass(engine.ClassDoc{Name: "os", Signature: "os",
		Help: "The host's files (relative to the working directory) and environment.",
		Members: []engine.MemberDoc{
			{Name: "env", Signature: "os.env: {[name]: string}", Static: true, Help: "The environment variables."},
			{Name: "readFile", Signature: "os.readFile(filename: string): Data | null", Static: true, Help: "A file's contents; null (and an error in the log) when it cannot be read."},
			{Name: "writeFile", Signature: "os.writeFile(filename: string, content: string | Data)", Static: true, Help: "Writes (replaces) a file; an error goes to the log."},
			{Name: "stat", Signature: "os.stat(filename: string): os.Stats | null", Static: true, Help: "A file's status, or null when it does not exist."},
		}})
	engine.DescribeClass(engine.ClassDoc{Name: "os.Stats", Signature: "os.Stats",
		Help: "What os.stat() returns. Times are in seconds since 1970.",
		Members: []engine.MemberDoc{
			{Name: "size", Signature: "size: number", Help: "Size in bytes."},
			{Name: "mtime", Signature: "mtime: number", Help: "Last modification time."},
			{Name: "atime", Signature: "atime: number", Help: "Last access time."},
			{Name: "ctime", Signature: "ctime: number", Help: "Last status change time."},
			{Name: "mode", Signature: "mode: number", Help: "File type and permission bits (st_mode)."},
			{Name: "dev", Signature: "dev, ino, nlink, uid, gid, rdev, blksize, blocks: number", Help: "The other fields of stat(2) (0 where the system has none)."},
			{Name: "isFile", Signature: "isFile(): boolean", Help: "A regular file."},
			{Name: "isDirectory", Signature: "isDirectory(): boolean", Help: "A directory."},
			{Name: "isCharacterDevice", Signature: "isCharacterDevice(): boolean", Help: "A character device."},
			{Name: "isBlockDevice", Signature: "isBlockDevice(): boolean", Help: "A block device."},
			{Name: "isFIFO", Signature: "isFIFO(): boolean", Help: "A named pipe."},
			{Name: "isSymbolicLink", Signature: "isSymbolicLink(): boolean", Help: "A symbolic link (stat follows links, so this is false)."},
			{Name: "isSocket", Signature: "isSocket(): boolean", Help: "A socket."},
		}})
}

// Unix file type bits of st_mode.
const (
	sIFMT   = 0o170000
	sIFSOCK = 0o140000
	sIFLNK  = 0o120000
	sIFREG  = 0o100000
	sIFBLK  = 0o060000
	sIFDIR  = 0o040000
	sIFCHR  = 0o020000
	sIFIFO  = 0o010000
)

// fileStat holds the fields of stat(2).
type fileStat struct {
	dev, ino, mode, nlink, uid, gid, rdev, size, blksize, blocks int64
	atime, mtime, ctime                                          int64
}

// unixMode turns Go's file mode into st_mode bits.
func unixMode(m fs.FileMode) int64 {
	t := int64(sIFREG)
	switch {
	case m&fs.ModeDir != 0:
		t = sIFDIR
	case m&fs.ModeSymlink != 0:
		t = sIFLNK
	case m&fs.ModeNamedPipe != 0:
		t = sIFIFO
	case m&fs.ModeSocket != 0:
		t = sIFSOCK
	case m&fs.ModeCharDevice != 0:
		t = sIFCHR
	case m&fs.ModeDevice != 0:
		t = sIFBLK
	}
	return t | int64(m.Perm())
}

type jsStats struct {
	readOnly
	st fileStat
}

func installOS(w *engine.Worker, g *goja.Object) {
	rt := w.Runtime()
	throw := thrower(rt)
	ns := rt.NewObject()
	g.Set("os", ns)

	env := rt.NewObject()
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			env.Set(k, v)
		}
	}
	ns.Set("env", env)

	filename := func(method string, v goja.Value) string {
		if !isString(v) || v.String() == "" {
			throw("os.%s: expects a file name", method)
		}
		return v.String()
	}
	ns.Set("readFile", func(call goja.FunctionCall) goja.Value {
		name := filename("readFile", call.Argument(0))
		b, err := os.ReadFile(name)
		if err != nil {
			logging.Errorf("os.readFile: cannot read %s: %v", name, err)
			return goja.Null()
		}
		return w.DataObject(event.NewData(b))
	})
	ns.Set("writeFile", func(call goja.FunctionCall) goja.Value {
		name := filename("writeFile", call.Argument(0))
		var b []byte
		c := call.Argument(1)
		if d, ok := engine.AsData(c); ok {
			b = d.Bytes()
		} else if isString(c) {
			b = []byte(c.String())
		} else {
			throw("os.writeFile: content must be a string or a Data")
		}
		if err := os.WriteFile(name, b, 0o644); err != nil {
			logging.Errorf("os.writeFile: cannot write %s: %v", name, err)
			return goja.Null()
		}
		return goja.Undefined()
	})

	statsPro := rt.NewObject()
	statsCtor := rt.ToValue(func(call goja.ConstructorCall) *goja.Object {
		throw("os.Stats: made by os.stat() only")
		return nil
	}).(*goja.Object)
	statsCtor.Set("prototype", statsPro)
	statsPro.Set("constructor", statsCtor)
	ns.Set("Stats", statsCtor)
	getStats := func(this *goja.Object) *fileStat {
		s, ok := w.Impl(this).(*jsStats)
		if !ok {
			throw("not an os.Stats")
		}
		return &s.st
	}
	for name, typ := range map[string]int64{
		"isFile": sIFREG, "isDirectory": sIFDIR, "isCharacterDevice": sIFCHR, "isBlockDevice": sIFBLK,
		"isFIFO": sIFIFO, "isSymbolicLink": sIFLNK, "isSocket": sIFSOCK,
	} {
		w.Method(statsPro, name, func(this *goja.Object, call goja.FunctionCall) goja.Value {
			return rt.ToValue(getStats(this).mode&sIFMT == typ)
		})
	}
	ns.Set("stat", func(call goja.FunctionCall) goja.Value {
		name := filename("stat", call.Argument(0))
		fi, err := os.Stat(name)
		if err != nil {
			return goja.Null()
		}
		s := &jsStats{st: statOf(fi)}
		s.readOnly = readOnly{
			keys: []string{"dev", "ino", "mode", "nlink", "uid", "gid", "rdev", "size", "blksize", "blocks", "atime", "mtime", "ctime"},
			get: func(k string) goja.Value {
				st := &s.st
				v := map[string]int64{"dev": st.dev, "ino": st.ino, "mode": st.mode, "nlink": st.nlink, "uid": st.uid, "gid": st.gid,
					"rdev": st.rdev, "size": st.size, "blksize": st.blksize, "blocks": st.blocks,
					"atime": st.atime, "mtime": st.mtime, "ctime": st.ctime}[k]
				return rt.ToValue(v)
			},
		}
		return w.NewInstance(statsPro, s)
	})
}

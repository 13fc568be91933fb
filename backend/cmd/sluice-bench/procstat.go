package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of utime and stime in /proc/<pid>/stat (USER_HZ,
// which Linux fixes at 100 on every architecture we care about).
const clockTick = 10 * time.Millisecond

// procTree returns pid and all of its descendants (nginx runs a master and
// its workers).
func procTree(pid int) []int {
	parents := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(child)
		if err != nil {
			continue
		}
		parents[st.ppid] = append(parents[st.ppid], child)
	}
	tree := []int{pid}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, parents[tree[i]]...)
	}
	return tree
}

type procStat struct {
	ppid int
	cpu  time.Duration // utime + stime
}

// readStat parses /proc/<pid>/stat. The command name may contain spaces and
// parentheses, so fields are counted from the last ')'.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	// After ')': state(3) ppid(4) ... utime(14) stime(15).
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ppid, err1 := strconv.Atoi(f[1])
	utime, err2 := strconv.ParseInt(f[11], 10, 64)
	stime, err3 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	return procStat{ppid: ppid, cpu: time.Duration(utime+stime) * clockTick}, nil
}

// treeCPU is the CPU time (user + system) used so far by pid and its
// descendants.
func treeCPU(pid int) time.Duration {
	var total time.Duration
	for _, p := range procTree(pid) {
		if st, err := readStat(p); err == nil {
			total += st.cpu
		}
	}
	return total
}

// treeRSS is the resident set size of pid and its descendants, in bytes.
func treeRSS(pid int) int64 {
	var total int64
	for _, p := range procTree(pid) {
		total += vmRSS(p)
	}
	return total
}

// vmRSS reads VmRSS from /proc/<pid>/status, in bytes (0 if unavailable).
func vmRSS(pid int) int64 {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			f := strings.Fields(rest) // "12345 kB"
			if len(f) == 2 && f[1] == "kB" {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// machine describes the host for the report header.
type machine struct {
	CPUs    int    // logical CPUs listed in /proc/cpuinfo
	Model   string // the first "model name"
	LoadAvg string // the 1, 5 and 15 minute load averages
}

func readMachine() machine {
	m := machine{Model: "unknown", LoadAvg: "unknown"}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "processor":
			m.CPUs++
		case "model name":
			if m.Model == "unknown" {
				m.Model = strings.TrimSpace(v)
			}
		}
	}
	return m
}

package tutorials

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Command is a command of a README's console block, with the output the
// text promises for it.
type Command struct {
	Line   int      // line of the README where it starts
	Text   string   // as written, without the prompt
	Args   []string // split as a shell would
	Pipe   []string // a grep the output goes through: ["grep", PATTERN]
	Output string   // the lines after it, each ending in a newline
}

// Commands returns the commands of the README's ```console blocks. In such
// a block a line starting with "$ " is a command (continued on the next
// line after a trailing backslash); the lines up to the next command or
// the end of the block are its output. Other blocks are not read.
func Commands(readme string) ([]Command, error) {
	var out []Command
	lines := strings.Split(readme, "\n")
	in := false
	var cur *Command
	flush := func() {
		if cur != nil {
			out = append(out, *cur)
			cur = nil
		}
	}
	for i := 0; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], "\r")
		if strings.HasPrefix(l, "```") {
			if in {
				flush()
				in = false
			} else {
				in = strings.TrimSpace(strings.TrimPrefix(l, "```")) == "console"
			}
			continue
		}
		if !in {
			continue
		}
		if strings.HasPrefix(l, "$ ") {
			flush()
			cur = &Command{Line: i + 1}
			text := strings.TrimPrefix(l, "$ ")
			for strings.HasSuffix(text, "\\") && i+1 < len(lines) {
				i++
				text = strings.TrimSuffix(text, "\\") + "\n" + strings.TrimRight(lines[i], "\r")
			}
			cur.Text = text
			args, err := splitShell(text)
			if err != nil {
				return nil, fmt.Errorf("README line %d: %w", cur.Line, err)
			}
			for i, a := range args {
				if a == "|" {
					cur.Pipe = args[i+1:]
					args = args[:i]
					if len(cur.Pipe) != 2 || cur.Pipe[0] != "grep" {
						return nil, fmt.Errorf("README line %d: only '| grep PATTERN' may follow a command", cur.Line)
					}
					break
				}
			}
			cur.Args = args
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("README line %d: output before any command in a console block", i+1)
		}
		cur.Output += l + "\n"
	}
	if in {
		return nil, errors.New("README: a console block is not closed")
	}
	flush()
	return out, nil
}

// splitShell splits a command line as a POSIX shell would for the simple
// commands the tutorials show: words, 'single' and "double" quotes,
// backslash escapes, continued lines, and a pipe (returned as a "|" word).
func splitShell(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	word := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n':
			if word {
				args = append(args, cur.String())
				cur.Reset()
				word = false
			}
		case ch == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unclosed ' quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			word = true
		case ch == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				} else if s[i] == '$' || s[i] == '`' {
					return nil, errors.New("substitutions are not supported in the tutorials' commands")
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New(`unclosed " quote`)
			}
			word = true
		case ch == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			word = true
		case ch == '|':
			if word {
				args = append(args, cur.String())
				cur.Reset()
				word = false
			}
			args = append(args, "|")
		case strings.IndexByte("&;<>()$`*?", ch) >= 0:
			return nil, fmt.Errorf("%q is not supported in the tutorials' commands", ch)
		default:
			cur.WriteByte(ch)
			word = true
		}
	}
	if word {
		args = append(args, cur.String())
	}
	return args, nil
}

// Run runs a command the way a reader would in a terminal: curl against the
// instance's (remapped) ports, and sleep; a grep may filter curl's output.
// It returns what the command prints.
func (in *Instance) Run(cmd Command) (string, error) {
	out, err := in.run(cmd)
	if err != nil || cmd.Pipe == nil {
		return out, err
	}
	re, err := regexp.Compile(cmd.Pipe[1])
	if err != nil {
		return "", fmt.Errorf("grep: %w", err)
	}
	var kept strings.Builder
	for _, l := range strings.SplitAfter(out, "\n") {
		if l != "" && re.MatchString(strings.TrimSuffix(l, "\n")) {
			kept.WriteString(l)
		}
	}
	return kept.String(), nil
}

func (in *Instance) run(cmd Command) (string, error) {
	if len(cmd.Args) == 0 {
		return "", errors.New("empty command")
	}
	switch cmd.Args[0] {
	case "sleep":
		if len(cmd.Args) != 2 {
			return "", errors.New("sleep takes one argument")
		}
		s, err := strconv.ParseFloat(cmd.Args[1], 64)
		if err != nil {
			return "", fmt.Errorf("sleep: %w", err)
		}
		time.Sleep(time.Duration(s * float64(time.Second)))
		return "", nil
	case "curl":
		return in.curl(cmd.Args[1:])
	}
	return "", fmt.Errorf("%s: only curl and sleep can be checked in a console block", cmd.Args[0])
}

// curl does what curl does with the options the tutorials use: -i, -s,
// -k, -d, -X, -H and --cacert; several URLs to one port share a
// connection.
func (in *Instance) curl(args []string) (string, error) {
	var (
		include, insecure bool
		method, cacert    string
		headers           [][2]string
		data              []string
		hasData           bool
		urls              []string
	)
	for i := 0; i < len(args); i++ {
		a := args[i]
		value := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("curl: option %s: requires a value", a)
			}
			i++
			return args[i], nil
		}
		var err error
		switch a {
		case "-i", "--include":
			include = true
		case "-s", "--silent", "-S", "--show-error", "-sS":
		case "-k", "--insecure":
			insecure = true
		case "-d", "--data", "--data-raw", "--data-binary":
			var v string
			if v, err = value(); err == nil {
				data = append(data, v)
				hasData = true
			}
		case "-X", "--request":
			method, err = value()
		case "-H", "--header":
			var v string
			if v, err = value(); err == nil {
				name, val, ok := strings.Cut(v, ":")
				if !ok {
					return "", fmt.Errorf("curl: bad header %q", v)
				}
				headers = append(headers, [2]string{strings.TrimSpace(name), strings.TrimSpace(val)})
			}
		case "--cacert":
			cacert, err = value()
		default:
			if strings.HasPrefix(a, "-") {
				return "", fmt.Errorf("curl: option %s is not supported by the tutorials' checker", a)
			}
			urls = append(urls, a)
		}
		if err != nil {
			return "", err
		}
	}
	if len(urls) == 0 {
		return "", errors.New("curl: no URL")
	}
	var out strings.Builder
	conns := map[string]*conn{}
	defer func() {
		for _, c := range conns {
			c.close()
			// The reader types the next command after this one has ended:
			// let the server see the client leave first.
			in.waitIdle(c.port, c.baseline)
		}
	}()
	for _, raw := range urls {
		u, port, err := parseURL(raw)
		if err != nil {
			return "", err
		}
		req := &request{method: method, path: u.RequestURI(), host: u.Host, headers: headers}
		if hasData {
			req.body, req.hasBody, req.form = []byte(strings.Join(data, "&")), true, true
		}
		if req.method == "" {
			req.method = "GET"
			if hasData {
				req.method = "POST"
			}
		}
		useTLS := u.Scheme == "https"
		key := u.Scheme + "://" + u.Host
		c := conns[key]
		if c != nil && c.dead {
			c.close()
			c = nil
		}
		if c == nil {
			var ca []byte
			if useTLS && !insecure {
				if cacert == "" {
					return "", errors.New("curl: an https URL needs --cacert FILE or -k in the tutorials")
				}
				f := in.Codebase[cacert]
				if f == nil {
					return "", fmt.Errorf("curl: --cacert %s: not a file of the step", cacert)
				}
				ca = f.Data
			}
			baseline := in.connections(in.Port(port))
			if c, err = dial(in.Port(port), useTLS, ca); err != nil {
				return "", fmt.Errorf("curl: %s: %w", raw, err)
			}
			c.baseline = baseline
			conns[key] = c
		}
		res, err := c.roundTrip(req)
		if err != nil {
			return "", fmt.Errorf("curl: %s: %w", raw, err)
		}
		if include {
			out.WriteString(res.head)
		}
		out.Write(res.body)
	}
	return out.String(), nil
}

// parseURL reads a URL as curl does: the scheme defaults to http.
func parseURL(raw string) (*url.URL, int, error) {
	s := raw
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, 0, fmt.Errorf("curl: %w", err)
	}
	port := 80
	if u.Scheme == "https" {
		port = 443
	}
	if p := u.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u, port, nil
}

// Terminal returns out as a terminal shows it: CRLF as LF, and a newline
// after output that lacks one (the shell's prompt would start a new line
// in the text's listing).
func Terminal(out string) string {
	out = strings.ReplaceAll(out, "\r\n", "\n")
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	return out
}

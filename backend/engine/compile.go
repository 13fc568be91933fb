package engine

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
	"github.com/evanw/esbuild/pkg/api"
	"github.com/go-sourcemap/sourcemap"
)

// ScriptError is an error located in a user's script.
type ScriptError struct {
	File    string // codebase path, e.g. /proxy.js
	Line    int    // 1-based; 0 when unknown
	Column  int    // 1-based
	Message string // e.g. "ReferenceError: _target is not defined"
	Source  string // the source line, when known
}

func (e *ScriptError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
}

// Detail is the error with the source line and a caret under the column.
func (e *ScriptError) Detail() string {
	if e.Source == "" || e.Column == 0 {
		return e.Error()
	}
	line := strings.ReplaceAll(e.Source, "\t", " ")
	col := min(e.Column-1, len(line))
	return fmt.Sprintf("%s\n    %s\n    %s^", e.Error(), line, strings.Repeat(" ", col))
}

// compiled is a module's program, compiled once and run in every worker.
type compiled struct {
	path    string
	source  string // the user's source
	program *goja.Program
	rw      *rewritten
	smap    *sourcemap.Consumer // esbuild's map, for TypeScript and ES modules
	genSrc  string              // esbuild output, when used
}

// needsTransform reports whether a source goes through esbuild first:
// TypeScript, and JavaScript written as an ES module.
func needsTransform(name, src string) (api.Loader, bool) {
	switch strings.ToLower(path.Ext(name)) {
	case ".ts", ".mts", ".cts":
		return api.LoaderTS, true
	case ".tsx":
		return api.LoaderTSX, true
	}
	if hasModuleSyntax(src) {
		return api.LoaderJS, true
	}
	return api.LoaderJS, false
}

// hasModuleSyntax spots import/export statements at the start of a line.
func hasModuleSyntax(src string) bool {
	for line := range strings.SplitSeq(src, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "import ") || strings.HasPrefix(t, "import{") ||
			strings.HasPrefix(t, "export ") || strings.HasPrefix(t, "export{") {
			return true
		}
	}
	return false
}

// compile turns a module's source into a program.
func compile(name, src string, globals func(string) bool) (*compiled, error) {
	c := &compiled{path: name, source: src}
	code := src
	if loader, ok := needsTransform(name, src); ok {
		res := api.Transform(src, api.TransformOptions{
			Loader:     loader,
			Format:     api.FormatCommonJS,
			Target:     api.ES2020,
			Sourcemap:  api.SourceMapExternal,
			Sourcefile: name,
			LogLevel:   api.LogLevelSilent,
		})
		if len(res.Errors) > 0 {
			m := res.Errors[0]
			se := &ScriptError{File: name, Message: "SyntaxError: " + m.Text}
			if m.Location != nil {
				se.Line, se.Column, se.Source = m.Location.Line, m.Location.Column+1, m.Location.LineText
			}
			return nil, se
		}
		sm, err := sourcemap.Parse(name+".map", res.Map)
		if err != nil {
			return nil, fmt.Errorf("%s: reading the source map: %w", name, err)
		}
		c.smap = sm
		code = string(res.Code)
		c.genSrc = code
	}
	rw, err := rewriteModule(name, code, globals)
	if err != nil {
		return nil, c.syntaxError(err)
	}
	c.rw = rw
	prg, err := goja.Compile(name, rw.code, false)
	if err != nil {
		return nil, c.syntaxError(err)
	}
	c.program = prg
	return c, nil
}

func (c *compiled) syntaxError(err error) error {
	var list parser.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		e := list[0]
		msg := strings.TrimPrefix(e.Message, "SyntaxError: ")
		line, col := c.fromGenerated(e.Position.Line, e.Position.Column)
		return c.located("SyntaxError: "+msg, line, col)
	}
	var cse *goja.CompilerSyntaxError
	if errors.As(err, &cse) && cse.File != nil {
		pos := cse.File.Position(cse.Offset)
		line, col := c.rw.original(pos.Line, pos.Column)
		line, col = c.fromGenerated(line, col)
		return c.located("SyntaxError: "+cse.Message, line, col)
	}
	return &ScriptError{File: c.path, Message: err.Error()}
}

// fromGenerated maps a position in esbuild's output to the user's source.
func (c *compiled) fromGenerated(line, col int) (int, int) {
	if c.smap == nil {
		return line, col
	}
	if _, _, l, cl, ok := c.smap.Source(line, col-1); ok {
		return l, cl + 1
	}
	return line, col
}

// position maps a position in the compiled program to the user's source.
func (c *compiled) position(line, col int) (int, int) {
	line, col = c.rw.original(line, col)
	return c.fromGenerated(line, col)
}

func (c *compiled) located(msg string, line, col int) *ScriptError {
	se := &ScriptError{File: c.path, Line: line, Column: col, Message: msg}
	lines := strings.Split(c.source, "\n")
	if line >= 1 && line <= len(lines) {
		se.Source = strings.TrimRight(lines[line-1], "\r")
	}
	return se
}

package main

import (
	"os"

	"golang.org/x/term"
)

// style colours output for people: only when stdout is a terminal, NO_COLOR is unset or
// empty (no-color.org) and TERM is not "dumb". Piped output and tests get plain text.
type style struct{ on bool }

func stdoutStyle() style { return newStyle(term.IsTerminal(int(os.Stdout.Fd())), os.Getenv) }

func newStyle(terminal bool, getenv func(string) string) style {
	return style{on: terminal && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"}
}

func (s style) wrap(code, text string) string {
	if !s.on || text == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

func (s style) bold(t string) string   { return s.wrap("1", t) }
func (s style) dim(t string) string    { return s.wrap("2", t) }
func (s style) green(t string) string  { return s.wrap("32", t) }
func (s style) yellow(t string) string { return s.wrap("33", t) }
func (s style) red(t string) string    { return s.wrap("1;31", t) }

// stdinIsTerminal reports whether a person can be asked questions.
func stdinIsTerminal() bool { return term.IsTerminal(int(os.Stdin.Fd())) }

package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/alecthomas/kong"
	"github.com/willabides/kongplete"
)

// Shell completion comes from kongplete (github.com/willabides/kongplete, on
// github.com/posener/complete): the shell runs lux itself with COMP_LINE set, and lux answers
// with the commands and flags that fit, derived from the kong model, so they never drift.

type completionCmd struct {
	Shell string `arg:"" enum:"bash,zsh" help:"bash or zsh."`
}

// Run prints the line that makes the shell complete lux commands and flags.
func (cmd completionCmd) Run() error {
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find the lux binary's path: %w", err)
	}
	if bin, err = filepath.Abs(bin); err != nil {
		return err
	}
	fmt.Print(completionScript(cmd.Shell, bin))
	return nil
}

// completionScript is what to eval in the shell's startup file.
func completionScript(shell, bin string) string {
	line := fmt.Sprintf("complete -o default -C %q lux\n", bin)
	if shell == "zsh" {
		return "# lux completion for zsh: add `eval \"$(lux completion zsh)\"` to ~/.zshrc\nautoload -U +X bashcompinit && bashcompinit\n" + line
	}
	return "# lux completion for bash: add `eval \"$(lux completion bash)\"` to ~/.bashrc\n" + line
}

// completeIfAsked answers a shell's completion request (COMP_LINE set) and exits; otherwise
// it returns at once.
func completeIfAsked(parser *kong.Kong) {
	if os.Getenv("COMP_LINE") == "" {
		return
	}
	kongplete.Complete(parser)
}

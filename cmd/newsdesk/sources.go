package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/newsdesk/newsdesk/internal/config"
)

// sourcesCmd runs `newsdesk sources import FILE.opml`: the YAML `sources:`
// block of the feeds in an OPML file, for an admin who would rather keep one
// file than name the OPML in sources_from. It reads the file exactly as
// sources_from does, so the names and the refusals are the same.
func sourcesCmd(e env, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprintln(e.stderr, "usage: newsdesk sources import FILE.opml")
		return errors.New("sources: the one subcommand is import")
	}
	fs := flag.NewFlagSet("newsdesk sources import", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: newsdesk sources import FILE.opml\n\nPrints the YAML sources: block of the feeds in FILE.opml (named as sources_from names them).")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("sources import: name one OPML file")
	}
	out, err := config.ImportOPML(fs.Arg(0))
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(out)
	return err
}

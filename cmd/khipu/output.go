package main

import (
	"bytes"
	"io"
	"strings"
	"text/tabwriter"
)

// summary is a readable answer: "key: value" lines with the values aligned.
// Keys are Khipu's JSON names, so that a summary and -json say the same
// things with the same words.
type summary struct{ rows [][2]string }

// add adds a line unless value is empty.
func (s *summary) add(key, value string) {
	if value != "" {
		s.rows = append(s.rows, [2]string{key, value})
	}
}

// always adds a line even when value is empty.
func (s *summary) always(key, value string) {
	s.rows = append(s.rows, [2]string{key, value})
}

// write writes the lines; values, which come from Khipu or an endpoint,
// are made single lines without control characters.
func (s *summary) write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	for _, r := range s.rows {
		if _, err := io.WriteString(tw, r[0]+":\t"+oneLine(r[1])+"\n"); err != nil {
			return err
		}
	}
	return tw.Flush()
}

// table writes a list as columns under a header.
func table(w io.Writer, header []string, rows [][]string) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	line := func(cells []string) {
		clean := make([]string, len(cells))
		for i, c := range cells {
			clean[i] = oneLine(c) // no tab of its own to shift a column
		}
		// Every row has every cell, so that each column is aligned over
		// the whole table; the padding of empty last cells is cut below.
		_, _ = io.WriteString(tw, strings.Join(clean, "\t")+"\n")
	}
	line(header)
	for _, r := range rows {
		line(r)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var out strings.Builder
	for _, l := range strings.SplitAfter(buf.String(), "\n") {
		if l != "" {
			out.WriteString(strings.TrimRight(l, " \n") + "\n")
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}

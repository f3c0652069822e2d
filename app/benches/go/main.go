// Command bench times Go's gjson and text/template on the case files that
// app/benches/language_vs_go.rs writes, the same way that benchmark times
// Patchbay: every case evaluated ITERATIONS times, best of five rounds.
//
//	bench gjson FILE ITERATIONS   # {"json","path"} lines
//	bench tmpl  FILE ITERATIONS   # {"template","vars"} lines; parsed once
//
// Prints one line: "<nanoseconds per evaluation> <evaluations per round>".
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

var funcs = template.FuncMap{
	"Capitalize": func(s string) string {
		if s == "" {
			return s
		}
		r, n := utf8.DecodeRuneInString(s)
		return string(unicode.ToUpper(r)) + s[n:]
	},
	"UrlEncode": func(s string) string { return url.PathEscape(s) },
	"ToMillis": func(s string) (string, error) {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return "", err
		}
		return strconv.FormatInt(n*1000, 10), nil
	},
}

type pathCase struct {
	JSON string `json:"json"`
	Path string `json:"path"`
}

type tmplCase struct {
	Template string            `json:"template"`
	Vars     map[string]string `json:"vars"`
}

func best(rounds int, run func()) time.Duration {
	var min time.Duration
	for i := 0; i < rounds; i++ {
		start := time.Now()
		run()
		if d := time.Since(start); i == 0 || d < min {
			min = d
		}
	}
	return min
}

var sink int

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: bench gjson|tmpl FILE ITERATIONS")
		os.Exit(2)
	}
	iterations, err := strconv.Atoi(os.Args[3])
	if err != nil {
		panic(err)
	}
	file, err := os.Open(os.Args[2])
	if err != nil {
		panic(err)
	}
	in := bufio.NewScanner(file)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	var paths []pathCase
	type parsed struct {
		t    *template.Template
		vars map[string]string
	}
	var templates []parsed
	for in.Scan() {
		switch os.Args[1] {
		case "gjson":
			var c pathCase
			if err := json.Unmarshal(in.Bytes(), &c); err != nil {
				panic(err)
			}
			paths = append(paths, c)
		case "tmpl":
			var c tmplCase
			if err := json.Unmarshal(in.Bytes(), &c); err != nil {
				panic(err)
			}
			t, err := template.New("t").Funcs(funcs).Option("missingkey=zero").Parse(c.Template)
			if err != nil {
				panic(fmt.Sprintf("case does not parse: %v", err))
			}
			templates = append(templates, parsed{t, c.Vars})
		}
	}
	var elapsed time.Duration
	var per int
	switch os.Args[1] {
	case "gjson":
		per = len(paths) * iterations
		elapsed = best(5, func() {
			for i := 0; i < iterations; i++ {
				for _, c := range paths {
					sink += len(gjson.Get(c.JSON, c.Path).String())
				}
			}
		})
	case "tmpl":
		per = len(templates) * iterations
		var b strings.Builder
		elapsed = best(5, func() {
			for i := 0; i < iterations; i++ {
				for _, c := range templates {
					b.Reset()
					if c.t.Execute(&b, c.vars) == nil {
						sink += b.Len()
					}
				}
			}
		})
	}
	_, _ = io.WriteString(os.Stdout, fmt.Sprintf("%.1f %d\n", float64(elapsed.Nanoseconds())/float64(per), per))
}

// Command gotmpl-oracle renders Go templates with the real text/template, sprig v3.3.0 and Helm
// v4's template functions (written here the way Helm's pkg/engine defines them), so that Rudder's
// engine can be compared with Go byte for byte.
//
// Modes:
//
//	gotmpl-oracle batch              JSON lines on stdin: {"name","template","data","option"};
//	                                 one JSON line per case on stdout: {"name","output","error"}.
//	gotmpl-oracle render TEMPLATE [DATA]   render one file (DATA: JSON or YAML), errors on stderr.
//	gotmpl-oracle bench -n N -data FILE TEMPLATE...   parse once, execute every template N times,
//	                                 print "ns_per_iteration <n>".
//
// Data is decoded as Helm's values are: into interface{} with every number a float64.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gotmpl-oracle batch | render TEMPLATE [DATA] | bench -n N -data FILE TEMPLATE...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "batch":
		os.Exit(batch(os.Stdin, os.Stdout))
	case "render":
		os.Exit(render(os.Args[2:]))
	case "bench":
		os.Exit(bench(os.Args[2:]))
	default:
		fmt.Fprintf(os.Stderr, "gotmpl-oracle: unknown mode %q\n", os.Args[1])
		os.Exit(2)
	}
}

// Case is one template with its data and options.
type Case struct {
	Name     string `json:"name"`
	Template string `json:"template"`
	Data     string `json:"data"`
	Option   string `json:"option"`
}

// Result is what Go did with a case: the output written (also before an execution error) and the
// error text, empty if none.
type Result struct {
	Name   string `json:"name"`
	Output string `json:"output"`
	Error  string `json:"error"`
}

func batch(in io.Reader, out io.Writer) int {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<28)
	w := bufio.NewWriter(out)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for sc.Scan() {
		var c Case
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			fmt.Fprintln(os.Stderr, "gotmpl-oracle: bad case line:", err)
			return 2
		}
		if err := enc.Encode(runCase(c)); err != nil {
			fmt.Fprintln(os.Stderr, "gotmpl-oracle:", err)
			return 2
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "gotmpl-oracle:", err)
		return 2
	}
	return 0
}

// runCase parses and executes one case, turning a panic that escapes text/template into an error
// line so that one bad case cannot stop a batch.
func runCase(c Case) (r Result) {
	r.Name = c.Name
	var out strings.Builder
	defer func() {
		if p := recover(); p != nil {
			r.Output = out.String()
			r.Error = fmt.Sprintf("PANIC: %v", p)
		}
	}()
	var data any
	if strings.TrimSpace(c.Data) != "" {
		if err := json.Unmarshal([]byte(c.Data), &data); err != nil {
			r.Error = "DATA: " + err.Error()
			return r
		}
	} else {
		data = map[string]any{}
	}
	t := template.New(c.Name)
	strict := false
	if c.Option != "" {
		t.Option(c.Option)
		strict = c.Option == "missingkey=error"
	}
	bindHelmFuncs(t, strict)
	if _, err := t.Parse(c.Template); err != nil {
		r.Error = err.Error()
		return r
	}
	err := t.Execute(&out, data)
	r.Output = out.String()
	if err != nil {
		r.Error = err.Error()
	}
	return r
}

func readData(path string) (any, error) {
	var data any = map[string]any{}
	if path == "" {
		return data, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(raw, &data); err != nil {
		return nil, err
	}
	return data, nil
}

func render(args []string) int {
	if len(args) < 1 {
		fmt.Fprintln(os.Stderr, "usage: gotmpl-oracle render TEMPLATE [DATA]")
		return 2
	}
	text, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dataPath := ""
	if len(args) > 1 {
		dataPath = args[1]
	}
	data, err := readData(dataPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	t := template.New(filepath.Base(args[0]))
	bindHelmFuncs(t, false)
	if _, err := t.Parse(string(text)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := t.Execute(os.Stdout, data); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func bench(args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	n := fs.Int("n", 100, "iterations")
	dataPath := fs.String("data", "", "data file (JSON or YAML)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	data, err := readData(*dataPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// One set holding every file, named by its path as given, as Helm parses a chart.
	t := template.New("bench").Option("missingkey=zero")
	bindHelmFuncs(t, false)
	var names []string
	for _, path := range fs.Args() {
		text, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if _, err := t.New(path).Parse(string(text)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if !strings.HasPrefix(filepath.Base(path), "_") {
			names = append(names, path)
		}
	}
	var sink int
	start := time.Now()
	for i := 0; i < *n; i++ {
		for _, name := range names {
			var b strings.Builder
			if err := t.ExecuteTemplate(&b, name, data); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			sink += b.Len()
		}
	}
	elapsed := time.Since(start)
	fmt.Printf("ns_per_iteration %d\nbytes_per_iteration %d\n", elapsed.Nanoseconds()/int64(*n), sink / *n)
	return 0
}

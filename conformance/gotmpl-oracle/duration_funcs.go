package main

// Helm v4's duration helpers, written after helm.sh/helm/v4 pkg/engine/funcs.go: values are
// time.Duration, Go duration strings, or numbers of seconds.

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"text/template"
	"time"
)

const (
	maxDurSeconds      = int64(math.MaxInt64 / int64(time.Second))
	minDurSeconds      = int64(math.MinInt64 / int64(time.Second))
	maxDurSecondsFloat = float64(math.MaxInt64) / float64(time.Second)
	minDurSecondsFloat = float64(math.MinInt64) / float64(time.Second)
)

func secondsInt(s int64) (time.Duration, error) {
	if s > maxDurSeconds || s < minDurSeconds {
		return 0, fmt.Errorf("duration seconds overflow: %d", s)
	}
	return time.Duration(s) * time.Second, nil
}

func secondsUint(s uint64) (time.Duration, error) {
	if s > uint64(maxDurSeconds) {
		return 0, fmt.Errorf("duration seconds overflow: %d", s)
	}
	return time.Duration(int64(s)) * time.Second, nil
}

func secondsFloat(s float64) (time.Duration, error) {
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return 0, fmt.Errorf("invalid duration seconds: %v", s)
	}
	if s > maxDurSecondsFloat || s < minDurSecondsFloat {
		return 0, fmt.Errorf("duration seconds overflow: %v", s)
	}
	nanos := s * float64(time.Second)
	if nanos > float64(math.MaxInt64) || nanos < float64(math.MinInt64) {
		return 0, fmt.Errorf("duration nanoseconds overflow: %v", nanos)
	}
	return time.Duration(nanos), nil
}

func asDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case time.Duration:
		return x, nil
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0, errors.New("empty duration")
		}
		if d, err := time.ParseDuration(s); err == nil {
			return d, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return secondsFloat(f)
		}
		return 0, fmt.Errorf("could not parse duration %q", x)
	case nil:
		return 0, errors.New("invalid duration")
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return secondsInt(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return secondsUint(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return secondsFloat(rv.Float())
	default:
		return 0, fmt.Errorf("unsupported duration type %T", v)
	}
}

func durationOr0[T any](f func(time.Duration) T) func(any) T {
	return func(v any) T {
		d, err := asDuration(v)
		if err != nil {
			var zero T
			return zero
		}
		return f(d)
	}
}

func durationFuncs() template.FuncMap {
	return template.FuncMap{
		"mustToDuration": func(v any) time.Duration {
			d, err := asDuration(v)
			if err != nil {
				panic(err)
			}
			return d
		},
		"durationSeconds":      durationOr0(time.Duration.Seconds),
		"durationMilliseconds": durationOr0(time.Duration.Milliseconds),
		"durationMicroseconds": durationOr0(time.Duration.Microseconds),
		"durationNanoseconds":  durationOr0(time.Duration.Nanoseconds),
		"durationMinutes":      durationOr0(time.Duration.Minutes),
		"durationHours":        durationOr0(time.Duration.Hours),
		"durationDays":         durationOr0(func(d time.Duration) float64 { return d.Hours() / 24.0 }),
		"durationWeeks":        durationOr0(func(d time.Duration) float64 { return d.Hours() / 24.0 / 7.0 }),
		"durationRoundTo": func(v, m any) time.Duration {
			d, err := asDuration(v)
			if err != nil {
				return 0
			}
			mul, err := asDuration(m)
			if err != nil {
				return d
			}
			return d.Round(mul)
		},
		"durationTruncateTo": func(v, m any) time.Duration {
			d, err := asDuration(v)
			if err != nil {
				return 0
			}
			mul, err := asDuration(m)
			if err != nil {
				return d
			}
			return d.Truncate(mul)
		},
	}
}

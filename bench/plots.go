package main

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// series is one line of a plot: medians against size, with min-max bars.
type series struct {
	label string
	rows  []row
	color int // index into palette
}

var palette = []color.Color{
	color.RGBA{0, 0, 0, 255},       // floor / reference
	color.RGBA{31, 119, 180, 255},  // shmtensor
	color.RGBA{44, 160, 44, 255},   // shmtensor variant
	color.RGBA{255, 127, 14, 255},  // numpy / pipe
	color.RGBA{214, 39, 40, 255},   // shared_memory / gob
	color.RGBA{148, 103, 189, 255}, // file
}

// sizeTicks labels the x axis with the measured sizes.
type sizeTicks []size

func (s sizeTicks) Ticks(min, max float64) []plot.Tick {
	var t []plot.Tick
	for _, sz := range s {
		t = append(t, plot.Tick{Value: float64(sz.Bytes), Label: sz.Label})
	}
	return t
}

// timeTicks labels a logarithmic time axis (nanoseconds) in decades.
type timeTicks struct{}

func (timeTicks) Ticks(min, max float64) []plot.Tick {
	var t []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		v := math.Pow(10, e)
		t = append(t, plot.Tick{Value: v, Label: fmtNs(v)})
		for k := 2.0; k < 10; k++ {
			t = append(t, plot.Tick{Value: k * v})
		}
	}
	return t
}

func linePlot(title, ylabel, path string, sizes []size, ss []series) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "data size"
	p.Y.Label.Text = ylabel
	p.X.Scale = plot.LogScale{}
	p.Y.Scale = plot.LogScale{}
	p.X.Tick.Marker = sizeTicks(sizes)
	p.Y.Tick.Marker = timeTicks{}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	p.Legend.XOffs = vg.Points(8)
	p.Add(plotter.NewGrid())
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, r := range s.rows {
			if r.Skip == "" && !math.IsNaN(r.S.Med) {
				minX, maxX = math.Min(minX, float64(r.Size.Bytes)), math.Max(maxX, float64(r.Size.Bytes))
				minY, maxY = math.Min(minY, r.S.Min), math.Max(maxY, r.S.Max)
			}
		}
	}
	if math.IsInf(minX, 0) {
		return nil // a partial run (-only) measured nothing to plot here
	}
	{
		// Room at the sides for the labels and above the data for the legend.
		p.X.Min, p.X.Max = minX/2, maxX*2
		p.Y.Min, p.Y.Max = minY/1.5, maxY*math.Pow(maxY/minY, 0.4)*1.5
	}
	for _, s := range ss {
		var pts, errs plotter.XYs
		var yerr plotter.YErrors
		for _, r := range s.rows {
			if r.Skip != "" || math.IsNaN(r.S.Med) {
				continue
			}
			x := float64(r.Size.Bytes)
			pts = append(pts, plotter.XY{X: x, Y: r.S.Med})
			errs = append(errs, plotter.XY{X: x, Y: r.S.Med})
			yerr = append(yerr, struct{ Low, High float64 }{r.S.Med - r.S.Min, r.S.Max - r.S.Med})
		}
		if len(pts) == 0 {
			continue
		}
		c := palette[s.color%len(palette)]
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		l.Color = c
		l.Width = vg.Points(1.5)
		sc.Color = c
		sc.Shape = draw.CircleGlyph{}
		bars, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{errs, yerr})
		if err != nil {
			return err
		}
		bars.Color = c
		p.Add(l, sc, bars)
		p.Legend.Add(s.label, l, sc)
	}
	return p.Save(8*vg.Inch, 5*vg.Inch, path)
}

func pick(rows []row, c string) []row {
	var out []row
	for _, r := range rows {
		if r.Case == c {
			out = append(out, r)
		}
	}
	return out
}

func plotAttach(r *report, path string) error {
	all := r.Attach
	return linePlot("Attach + close of an existing segment (median, min–max)", "time per attach", path, attachSizes(), []series{
		{"syscall floor (open+fstat+mmap+munmap+close)", pick(all, caseFloorAttach), 0},
		{"shmtensor.Attach + Close", pick(all, caseAttach), 1},
		{"floor + pread of the header page", pick(all, caseFloorAttachH), 2},
		{"numpy.load(mmap_mode=\"r+\")", pick(all, caseNumpyLoad), 3},
		{"SharedMemory(name) + np.ndarray", pick(all, caseSharedMem), 4},
	})
}

func plotHandoff(r *report, path string) error {
	var ss []series
	for i, m := range handoffMethods {
		ss = append(ss, series{m.label, pick(r.Handoff, m.label), i + 1})
	}
	return linePlot("Hand-off of a float64 vector to a process that sums it (median, min–max)", "total time", path, handoffSizes(), ss)
}

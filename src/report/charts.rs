//! Charts as inline SVG, drawn with plotters' SVG backend (no system fonts:
//! plotters' naive text metrics; text is XML-escaped by the backend).

use plotters::prelude::*;

const BLUE: RGBColor = RGBColor(0x2f, 0x6f, 0xde);
const ORANGE: RGBColor = RGBColor(0xe0, 0x7a, 0x1f);
const RED: RGBColor = RGBColor(0xc8, 0x2a, 0x2a);
const GREY: RGBColor = RGBColor(0x88, 0x90, 0xa0);

fn render(w: u32, h: u32, draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Option<()>) -> String {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (w, h)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let _ = draw(&root);
        let _ = root.present();
    }
    buf
}

fn max_or(v: impl Iterator<Item = f64>, min: f64) -> f64 {
    v.fold(min, f64::max) * 1.1
}

/// Pixels a chart's caption takes above its plot.
const CAPTION_PX: u32 = 25;

/// A chart's size and the room around its plot, so the plot's height (for
/// [`legend_room`]) is derived from the numbers the chart is drawn with.
struct Frame {
    w: u32,
    h: u32,
    margin: u32,
    x_labels: u32,
}

impl Frame {
    /// Pixels between the caption and the x-axis labels.
    fn plot_px(&self) -> f64 {
        f64::from(self.h - 2 * self.margin - self.x_labels - CAPTION_PX)
    }
}

/// The y axis top that keeps every value of at most `top` below a legend
/// box of `labels` lines drawn inside the top of a plot `plot_px` high: the
/// legend then never covers a point, a line or a bar.
fn legend_room(top: f64, labels: usize, plot_px: f64) -> f64 {
    let legend_px = 14.0 + 18.0 * labels as f64 + 8.0;
    top / (1.0 - (legend_px / plot_px).min(0.6))
}

/// Decimals that keep the ticks of an axis from 0 to `top` (about five
/// steps) distinct: 0.001, 0.002, … rather than 0.001, 0.001, 0.002.
fn tick_decimals(top: f64) -> usize {
    let step = top / 5.0;
    if step <= 0.0 || !step.is_finite() { 0 } else { (-step.log10()).ceil().max(0.0) as usize }
}

/// p50 and p99 per day (ms). `days` are labels (dates) in order.
pub fn latency_trend(days: &[String], p50: &[f64], p99: &[f64]) -> String {
    let n = days.len().max(1);
    // The card's width at 1280 px: a day's point is not squeezed into half.
    let f = Frame { w: 1100, h: 260, margin: 10, x_labels: 30 };
    let top = legend_room(max_or(p99.iter().chain(p50).copied(), 1.0), 2, f.plot_px());
    render(f.w, f.h, |root| {
        let mut c = ChartBuilder::on(root)
            .margin(f.margin)
            .x_label_area_size(f.x_labels)
            .y_label_area_size(55)
            .caption("Latency per day (ms)", ("sans-serif", 15))
            .build_cartesian_2d(0usize..n, 0f64..top)
            .ok()?;
        c.configure_mesh()
            .x_labels(n.min(8))
            .x_label_formatter(&|i| days.get(*i).map(|d| d[5..].to_string()).unwrap_or_default())
            .y_desc("ms")
            .draw()
            .ok()?;
        c.draw_series(LineSeries::new(p50.iter().enumerate().map(|(i, v)| (i, *v)), BLUE.stroke_width(2)))
            .ok()?
            .label("p50")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], BLUE));
        c.draw_series(p50.iter().enumerate().map(|(i, v)| Circle::new((i, *v), 3, BLUE.filled()))).ok()?;
        c.draw_series(LineSeries::new(p99.iter().enumerate().map(|(i, v)| (i, *v)), ORANGE.stroke_width(2)))
            .ok()?
            .label("p99")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], ORANGE));
        c.draw_series(p99.iter().enumerate().map(|(i, v)| Circle::new((i, *v), 3, ORANGE.filled()))).ok()?;
        c.configure_series_labels().border_style(GREY).background_style(WHITE).draw().ok()?;
        Some(())
    })
}

/// Pages per ISO week with the guideline (max pages per 12 h × 14) drawn.
pub fn pages_per_week(weeks: &[String], pages: &[f64], guideline: f64) -> String {
    let n = weeks.len().max(1);
    let top = max_or(pages.iter().copied().chain([guideline]), 1.0);
    render(640, 240, |root| {
        let mut c = ChartBuilder::on(root)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(45)
            .caption(format!("Pages per week (red line: guideline of {guideline:.0})"), ("sans-serif", 15))
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)
            .ok()?;
        c.configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|v| {
                let i = v.round();
                if (v - i).abs() < 0.01 && i >= 0.0 { weeks.get(i as usize).cloned().unwrap_or_default() } else { String::new() }
            })
            .y_desc("pages")
            .light_line_style(WHITE)
            .y_labels((top as usize).min(8) + 1)
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style(("sans-serif", 12))
            .draw()
            .ok()?;
        c.draw_series(pages.iter().enumerate().map(|(i, p)| {
            let color = if *p > guideline { RED } else { BLUE };
            Rectangle::new([(i as f64 - 0.35, 0.0), (i as f64 + 0.35, *p)], color.mix(0.7).filled())
        }))
        .ok()?;
        c.draw_series(LineSeries::new([(-0.5, guideline), (n as f64 - 0.5, guideline)], RED.stroke_width(1)))
            .ok()?
            .label(format!("guideline: {guideline:.0} pages a week"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], RED));
        // No legend box: the caption names the line, so nothing covers a bar.
        Some(())
    })
}

/// The planner's view: pages per 12 h against rotation size, one point per
/// team (red when below its own minimum: one site or several), with the
/// overload guideline and the minimum healthy sizes for one site and, when
/// a team has several, for the most sites.
pub fn load_vs_rotation(points: &[(String, f64, f64, f64)], max_per_12h: f64, min_single: f64, min_multi: Option<f64>) -> String {
    let xmax = max_or(points.iter().map(|p| p.1).chain([min_single]).chain(min_multi), 4.0).ceil();
    // Room above the highest point for its label (16 px) and the legend.
    let labels = 2 + usize::from(min_multi.is_some());
    let f = Frame { w: 1100, h: 420, margin: 12, x_labels: 40 };
    let ymax = legend_room(max_or(points.iter().map(|p| p.2).chain([max_per_12h]), 1.0), labels, f.plot_px() - 16.0);
    render(f.w, f.h, |root| {
        let mut c = ChartBuilder::on(root)
            .margin(f.margin)
            .x_label_area_size(f.x_labels)
            .y_label_area_size(55)
            .caption("Load against rotation size (last 4 weeks)", ("sans-serif", 16))
            .build_cartesian_2d(0f64..xmax, 0f64..ymax)
            .ok()?;
        c.configure_mesh()
            .light_line_style(WHITE)
            .x_labels((xmax as usize).min(16) + 1)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .x_desc("people in the rotation")
            .y_desc("pages per 12 h on call")
            .label_style(("sans-serif", 12))
            .axis_desc_style(("sans-serif", 13))
            .draw()
            .ok()?;
        c.draw_series([Rectangle::new([(0.0, max_per_12h), (xmax, ymax)], RED.mix(0.08).filled())]).ok()?;
        c.draw_series([Rectangle::new([(0.0, 0.0), (min_single, ymax)], ORANGE.mix(0.08).filled())]).ok()?;
        c.draw_series(LineSeries::new([(0.0, max_per_12h), (xmax, max_per_12h)], RED))
            .ok()?
            .label(format!("overloaded above {max_per_12h} pages / 12 h"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], RED));
        c.draw_series(LineSeries::new([(min_single, 0.0), (min_single, ymax)], ORANGE))
            .ok()?
            .label(format!("too small below {min_single} people (one site)"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], ORANGE));
        if let Some(m) = min_multi {
            c.draw_series(DashedLineSeries::new([(m, 0.0), (m, ymax)], 6, 4, ORANGE.stroke_width(1)))
                .ok()?
                .label(format!("too small below {m} people (several sites)"))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], ORANGE));
        }
        // Each name where it overlaps no other name and no point.
        let names: Vec<String> = points.iter().map(|p| crate::names::short(&p.0, 18)).collect();
        let pixels: Vec<(i32, i32)> = points.iter().map(|p| c.backend_coord(&(p.1, p.2))).collect();
        let widths: Vec<i32> = names.iter().map(|n| super::labels::label_width(n.chars().count())).collect();
        let (xs, ys) = (c.backend_coord(&(0.0, ymax)), c.backend_coord(&(xmax, 0.0)));
        let offsets = super::labels::place(&pixels, &widths, (xs.0, xs.1, ys.0, ys.1));
        for ((_, x, y, min), (label, offset)) in points.iter().zip(names.iter().zip(offsets)) {
            let color = if x < min || *y > max_per_12h { RED } else { BLUE };
            c.draw_series([Circle::new((*x, *y), 5, color.filled())]).ok()?;
            c.draw_series([EmptyElement::at((*x, *y)) + Text::new(label.clone(), offset, ("sans-serif", 12))]).ok()?;
        }
        c.configure_series_labels().position(SeriesLabelPosition::UpperRight).label_font(("sans-serif", 12)).border_style(GREY).background_style(WHITE.mix(0.9)).draw().ok()?;
        Some(())
    })
}

/// A horizontal bar per item; bars beyond `limit` (above it when
/// `bad_above`, else below it) are red, and the limit is drawn.
pub fn bars(title: &str, items: &[(String, f64)], limit: Option<f64>, bad_above: bool) -> String {
    let n = items.len().max(1);
    let h = 80 + 34 * n as u32;
    let xmax = items.iter().map(|i| i.1).chain(limit).fold(1.0f64, f64::max) * 1.1;
    render(640, h, |root| {
        let mut c = ChartBuilder::on(root)
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(190)
            .caption(title, ("sans-serif", 14))
            .build_cartesian_2d(0f64..xmax, -0.5f64..(n as f64 - 0.5))
            .ok()?;
        let counts = items.iter().all(|i| i.1.fract() == 0.0);
        c.configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .x_label_formatter(&|v| if counts || xmax >= 20.0 { format!("{v:.0}") } else { format!("{v:.1}") })
            .label_style(("sans-serif", 12))
            .y_labels(n)
            .y_label_formatter(&|v| {
                let i = v.round();
                if (v - i).abs() < 0.01 && i >= 0.0 {
                    items.get(i as usize).map(|x| crate::names::short(&x.0, 28)).unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .draw()
            .ok()?;
        c.draw_series(items.iter().enumerate().map(|(i, (_, v))| {
            let bad = limit.is_some_and(|m| if bad_above { *v > m } else { *v < m });
            let color = if bad { RED } else { BLUE };
            Rectangle::new([(0.0, i as f64 - 0.35), (*v, i as f64 + 0.35)], color.mix(0.7).filled())
        }))
        .ok()?;
        if let Some(m) = limit {
            c.draw_series(LineSeries::new([(m, -0.5), (m, n as f64 - 0.5)], GREY)).ok()?;
        }
        Some(())
    })
}

/// One line of a weekly trend: its label and a value per week (None: not
/// stored that week).
pub struct Series<'a> {
    pub label: &'a str,
    pub values: Vec<Option<f64>>,
}

/// A 12-week trend: one line per series over ISO weeks, `unit` on the y
/// axis, integer ticks for counts, and an optional threshold line (an SLO's
/// target, the page guideline) with its label.
pub fn weekly_trend(title: &str, unit: &str, weeks: &[String], series: &[Series], threshold: Option<(f64, String)>, counts: bool) -> String {
    let n = weeks.len().max(1);
    let top = max_or(series.iter().flat_map(|s| s.values.iter().flatten().copied()).chain(threshold.as_ref().map(|t| t.0)), if counts { 4.0 } else { 1e-9 });
    let labels = series.len() + usize::from(threshold.is_some());
    let f = Frame { w: 620, h: 250, margin: 10, x_labels: 32 };
    let top = legend_room(top, labels, f.plot_px());
    let top = if counts { top.ceil().max(4.0) } else { top };
    let decimals = tick_decimals(top);
    let colors = [BLUE, ORANGE, GREY];
    render(f.w, f.h, |root| {
        let mut c = ChartBuilder::on(root)
            .margin(f.margin)
            .x_label_area_size(f.x_labels)
            .y_label_area_size(58)
            .caption(title, ("sans-serif", 15))
            .build_cartesian_2d(-0.3f64..(n as f64 - 0.7), 0f64..top)
            .ok()?;
        let step = n.div_ceil(6).max(1);
        c.configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .x_labels(n)
            .x_label_formatter(&|v| {
                let i = v.round();
                if (v - i).abs() < 0.01 && i >= 0.0 && (i as usize) % step == (n - 1) % step {
                    weeks.get(i as usize).map(|w| w.replace("-W", " W")).unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_labels(if counts { (top as usize).min(6) + 1 } else { 6 })
            .y_label_formatter(&|v| if counts { format!("{v:.0}") } else { format!("{v:.decimals$}") })
            .x_desc("ISO week")
            .y_desc(unit)
            .label_style(("sans-serif", 12))
            .axis_desc_style(("sans-serif", 12))
            .draw()
            .ok()?;
        if let Some((t, label)) = &threshold {
            c.draw_series(LineSeries::new([(-0.3, *t), (n as f64 - 0.7, *t)], RED.stroke_width(1)))
                .ok()?
                .label(label.clone())
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], RED));
        }
        for (k, s) in series.iter().enumerate() {
            let color = colors[k % colors.len()];
            let pts: Vec<(f64, f64)> = s.values.iter().enumerate().filter_map(|(i, v)| v.map(|v| (i as f64, v))).collect();
            c.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .ok()?
                .label(s.label.to_string())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], color));
            c.draw_series(pts.iter().map(|p| Circle::new(*p, 3, color.filled()))).ok()?;
        }
        c.configure_series_labels().position(SeriesLabelPosition::UpperLeft).label_font(("sans-serif", 12)).border_style(GREY).background_style(WHITE.mix(0.85)).draw().ok()?;
        Some(())
    })
}

/// A small inline trend (a sparkline, 90 × 22) for a table cell.
pub fn sparkline(values: &[Option<f64>]) -> String {
    let (w, h) = (90.0, 22.0);
    let top = values.iter().flatten().copied().fold(0.0f64, f64::max).max(1.0);
    let n = values.len().max(2) as f64 - 1.0;
    let pts: Vec<String> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", 2.0 + i as f64 / n * (w - 4.0), h - 2.0 - v / top * (h - 4.0))))
        .collect();
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img"><title>pages per week, last {} weeks</title><polyline points="{}" fill="none" stroke="#2f6fde" stroke-width="1.5"/></svg>"##,
        values.len(),
        pts.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_stay_distinct_and_values_stay_below_the_legend() {
        for top in [0.0023, 0.012, 0.5, 3.0, 42.0, 1200.0] {
            let d = tick_decimals(top);
            let ticks: Vec<String> = (0..=5).map(|k| format!("{:.d$}", top * k as f64 / 5.0)).collect();
            let mut distinct = ticks.clone();
            distinct.dedup();
            assert_eq!(distinct.len(), ticks.len(), "{top}: {ticks:?}");
        }
        // A value at the old top sits below a two-line legend's band.
        let plot = 200.0;
        let top = legend_room(10.0, 2, plot);
        let legend_px = 14.0 + 36.0 + 8.0;
        assert!(10.0 / top * plot <= plot - legend_px + 1e-9);
    }
}

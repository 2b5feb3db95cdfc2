//! The examples' figures: panels side by side, each a line per run, written as PNG and SVG.

use anyhow::Context;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Registers the embedded font that the bitmap backend draws text with.
fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("the embedded DejaVu font is valid"));
    });
}

const COLORS: [RGBColor; 4] = [
    RGBColor(214, 39, 40),
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

/// One chart: a line per run.
pub struct Panel {
    pub title: String,
    pub x_label: &'static str,
    pub y_label: &'static str,
    /// Per run: its name and its points `(x, y)`.
    pub series: Vec<(String, Vec<(f32, f32)>)>,
    /// Mark each point (for sparse series such as evaluations, so a single point still shows).
    pub markers: bool,
}

/// Draws `panel` on `area`.
fn panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &Panel) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let Panel {
        title,
        x_label,
        y_label,
        series,
        markers,
    } = panel;
    let points = series.iter().flat_map(|(_, p)| p.iter());
    let x_max = points.clone().map(|p| p.0).fold(1.0f32, f32::max);
    let y_max = points
        .map(|p| p.1)
        .filter(|v| v.is_finite())
        .fold(0.1f32, f32::max)
        * 1.05;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(0f32..x_max, 0f32..y_max)?;
    chart
        .configure_mesh()
        .x_desc(*x_label)
        .y_desc(*y_label)
        .label_style(("sans-serif", 14))
        .draw()?;
    for (i, (name, pts)) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        if *markers {
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    Ok(())
}

fn draw_on<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    panels: &[Panel],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 18))?;
    for (area, p) in root.split_evenly((1, panels.len())).iter().zip(panels) {
        panel(area, p)?;
    }
    root.present()?;
    Ok(())
}

/// Writes `<stem>.png` and `<stem>.svg` into `out`: `panels` side by side under `title`.
pub fn draw(out: &Path, stem: &str, title: &str, panels: &[Panel]) -> anyhow::Result<()> {
    register_font();
    let size = (600 * panels.len() as u32, 480);
    let (png, svg) = (
        out.join(format!("{stem}.png")),
        out.join(format!("{stem}.svg")),
    );
    let drawing = |path: &Path| format!("drawing {}", path.display());
    draw_on(
        BitMapBackend::new(&png, size).into_drawing_area(),
        title,
        panels,
    )
    .with_context(|| drawing(&png))?;
    draw_on(
        SVGBackend::new(&svg, size).into_drawing_area(),
        title,
        panels,
    )
    .with_context(|| drawing(&svg))?;
    Ok(())
}

/// The data's short name for a figure's title: `data`'s description up to its first
/// parenthesis.
pub fn short_name(data: &str) -> &str {
    data.split(" (").next().unwrap_or(data)
}

//! The article's figures: training loss and test loss against steps, one line per run, as
//! `loss.png` and `loss.svg`.

use super::report::smoothed;
use super::train::RunResult;
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

type Series = Vec<(String, Vec<(f32, f32)>)>;

/// Draws one panel of `series` (name, points) titled `title`.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    series: &Series,
    markers: bool,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
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
        .x_desc("step")
        .y_desc("loss")
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
        // Evaluations get markers, so that a single point still shows.
        if markers {
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
    results: &[RunResult],
    dataset: &str,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let short = dataset.split(" (").next().unwrap_or(dataset);
    let root = root.titled(&format!("kiln cifar_bn on {short}"), ("sans-serif", 18))?;
    let (left, right) = root.split_horizontally(root.dim_in_pixel().0 / 2);
    let train: Series = results
        .iter()
        .map(|r| {
            let s = smoothed(&r.record.train_loss);
            let pts = s
                .iter()
                .enumerate()
                .map(|(i, &l)| ((i + 1) as f32, l))
                .collect();
            (r.spec.name.clone(), pts)
        })
        .collect();
    let test: Series = results
        .iter()
        .map(|r| {
            let pts = r
                .record
                .evals
                .iter()
                .map(|e| (e.step as f32, e.loss))
                .collect();
            (r.spec.name.clone(), pts)
        })
        .collect();
    panel(&left, "training loss (10-step mean)", &train, false)?;
    panel(&right, "test loss", &test, true)?;
    root.present()?;
    Ok(())
}

/// Writes `loss.png` and `loss.svg` into `out`.
pub fn draw(out: &Path, results: &[RunResult], dataset: &str) -> anyhow::Result<()> {
    register_font();
    let size = (1200, 480);
    let (png, svg) = (out.join("loss.png"), out.join("loss.svg"));
    let drawing = |path: &Path| format!("drawing {}", path.display());
    draw_on(
        BitMapBackend::new(&png, size).into_drawing_area(),
        results,
        dataset,
    )
    .with_context(|| drawing(&png))?;
    draw_on(
        SVGBackend::new(&svg, size).into_drawing_area(),
        results,
        dataset,
    )
    .with_context(|| drawing(&svg))?;
    Ok(())
}

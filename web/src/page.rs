//! What the page's JavaScript calls: open the GPU, make the synthetic data a chunk per call or
//! take the CIFAR-10 files given, build a session, step it, read the table. Every call that
//! waits for the device returns a promise; none blocks the page.

use crate::data::{Cifar10Files, TrainingData};
use crate::settings::Settings;
use kiln::data::SyntheticGenerator;
use kiln::tensor::{gpu, Device};
use kiln_experiments::cifar_bn::live::{Clock, Live, Yield};
use kiln_experiments::cifar_bn::report;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// Opens WebGPU for kiln's GPU device and returns the adapter's description; rejects with the
/// reason when the browser offers no adapter (the page then trains on the CPU).
#[wasm_bindgen]
pub async fn open_gpu() -> Result<String, JsError> {
    gpu::init().await.map_err(js_error)?;
    gpu::adapter_summary().map_err(js_error)
}

/// The synthetic data of some settings, generated a chunk at a time so that the page can
/// repaint and answer its reader between chunks.
#[wasm_bindgen]
pub struct Synthetic {
    settings: Settings,
    generator: SyntheticGenerator,
}

#[wasm_bindgen]
impl Synthetic {
    /// Prepares the data of `settings` (JSON, see [`Settings`]); nothing is drawn yet.
    #[wasm_bindgen(constructor)]
    pub fn new(settings: &str) -> Result<Synthetic, JsError> {
        let settings = parse_settings(settings)?;
        settings.check().map_err(js_error)?;
        let generator = settings.synthetic().generator();
        Ok(Synthetic {
            settings,
            generator,
        })
    }

    /// Draws the next `count` images; returns whether every image is drawn.
    pub fn draw(&mut self, count: usize) -> bool {
        self.generator.draw(count)
    }

    /// Images drawn so far.
    pub fn drawn(&self) -> usize {
        self.generator.drawn()
    }

    /// Training and test images in all.
    pub fn total(&self) -> usize {
        self.generator.total()
    }

    /// The data, once every image is drawn (those left are drawn first).
    pub fn finish(self) -> Data {
        Data(TrainingData::synthetic(
            &self.settings,
            self.generator.finish(),
        ))
    }
}

/// The CIFAR-10 files given to the page (dropped on it or picked).
#[wasm_bindgen]
#[derive(Default)]
pub struct Files(Cifar10Files);

#[wasm_bindgen]
impl Files {
    /// No file yet.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Files {
        Files::default()
    }

    /// Parses and keeps the file `name` of content `bytes`; throws, naming the file and its
    /// size, when it is not a CIFAR-10 record file.
    pub fn add(&mut self, name: &str, bytes: &[u8]) -> Result<(), JsError> {
        self.0.add(name, bytes).map_err(js_error)
    }

    /// Whether no record file was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The files given and what is still needed, in one line.
    pub fn status(&self) -> String {
        self.0.status()
    }

    /// The data of the files under `settings` (JSON): the first images of each split.
    pub fn data(&self, settings: &str) -> Result<Data, JsError> {
        let settings = parse_settings(settings)?;
        self.0.data(&settings).map(Data).map_err(js_error)
    }
}

/// The data a session trains on.
#[wasm_bindgen]
pub struct Data(TrainingData);

#[wasm_bindgen]
impl Data {
    /// Which data this is, in one line.
    pub fn description(&self) -> String {
        self.0.description.clone()
    }

    /// Whether it is synthetic, not CIFAR-10.
    pub fn synthetic(&self) -> bool {
        self.0.synthetic
    }
}

/// A comparison in progress.
#[wasm_bindgen]
pub struct Session {
    live: Rc<RefCell<Option<Live>>>,
    dataset: String,
    synthetic: bool,
}

#[wasm_bindgen]
impl Session {
    /// Prepares the runs of `settings` (JSON, see [`Settings`]) on `data` and `device`
    /// (`"gpu"`, opened by [`open_gpu`], or `"cpu"`).
    #[wasm_bindgen(constructor)]
    pub fn new(settings: &str, device: &str, data: &Data) -> Result<Session, JsError> {
        let settings = parse_settings(settings)?;
        let device = match device {
            "gpu" => Device::Gpu,
            "cpu" => Device::Cpu,
            other => {
                return Err(JsError::new(&format!(
                    "device must be gpu or cpu, not {other:?}"
                )))
            }
        };
        let live = Live::new(
            settings.experiment(device).map_err(js_error)?,
            &data.0.train,
            &data.0.test,
            clock(),
            next_task(),
        )
        .map_err(js_error)?;
        Ok(Session {
            live: Rc::new(RefCell::new(Some(live))),
            dataset: data.0.description.clone(),
            synthetic: data.0.synthetic,
        })
    }

    /// The next step's news as JSON (`Progress`: run, name, step, loss, eval, seconds), or
    /// `null` when both runs are done. Step `k`'s loss arrives while step `k + 1` runs.
    pub fn step(&self) -> js_sys::Promise {
        let cell = self.live.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            // The comparison is out of its cell while the step runs, so that the page cannot
            // start another one meanwhile.
            let mut live = cell.take().ok_or_else(in_progress)?;
            let progress = live.step().await;
            cell.replace(Some(live));
            match progress.map_err(js_error)? {
                Some(progress) => serde_json::to_string(&progress)
                    .map(JsValue::from)
                    .map_err(|e| js_error(e).into()),
                None => Ok(JsValue::NULL),
            }
        })
    }

    /// The summary table, as `cifar_bn` prints it, of the steps so far.
    pub fn table(&self) -> Result<String, JsError> {
        let live = self.live.borrow();
        let live = live.as_ref().ok_or_else(in_progress)?;
        Ok(report::table(
            &live.summary(self.dataset.clone(), self.synthetic),
        ))
    }

    /// The runs' names, in order, as JSON.
    pub fn runs(&self) -> Result<String, JsError> {
        let live = self.live.borrow();
        let live = live.as_ref().ok_or_else(in_progress)?;
        let names: Vec<&str> = live.runs().iter().map(|r| r.name.as_str()).collect();
        serde_json::to_string(&names).map_err(js_error)
    }
}

fn parse_settings(json: &str) -> Result<Settings, JsError> {
    serde_json::from_str(json)
        .map_err(|e| JsError::new(&format!("reading the settings {json}: {e}")))
}

fn in_progress() -> JsError {
    JsError::new("a step is in progress: await it first")
}

/// The page's clock, in seconds.
fn clock() -> Clock {
    let performance = web_sys::window().and_then(|w| w.performance());
    Box::new(move || performance.as_ref().map_or(0.0, |p| p.now() / 1000.0))
}

/// The page's yield: a message the page posts to itself on a `MessageChannel`, which arrives
/// on a later task of the event loop, after the browser has run what was waiting (input, a
/// repaint). Not a zero-delay timer: browsers hold chained ones back 4 ms each, a quarter of a
/// second more for an evaluation of 63 batches.
fn next_task() -> Yield {
    let channel = web_sys::MessageChannel::new().ok();
    Box::new(move || {
        let message = js_sys::Promise::new(&mut |resolve, _| {
            let posted = channel.as_ref().is_some_and(|channel| {
                channel.port1().set_onmessage(Some(&resolve));
                channel.port2().post_message(&JsValue::UNDEFINED).is_ok()
            });
            if !posted {
                // Nothing will arrive: go on at once rather than never.
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
        });
        Box::pin(async move {
            // The promise is never rejected.
            let _ = wasm_bindgen_futures::JsFuture::from(message).await;
        })
    })
}

fn js_error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

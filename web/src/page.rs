//! What the page's JavaScript calls: open the GPU, build a session, step it, read the table.
//! Every call that waits for the device returns a promise; none blocks the page.

use crate::settings::Settings;
use kiln::tensor::{gpu, Device};
use kiln_experiments::cifar_bn::live::Live;
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

/// A comparison in progress, on synthetic data generated in the page.
#[wasm_bindgen]
pub struct Session {
    live: Rc<RefCell<Option<Live>>>,
    dataset: String,
}

#[wasm_bindgen]
impl Session {
    /// Generates the data of `settings` (JSON, see [`Settings`]) and prepares the runs on
    /// `device` (`"gpu"`, opened by [`open_gpu`], or `"cpu"`).
    #[wasm_bindgen(constructor)]
    pub fn new(settings: &str, device: &str) -> Result<Session, JsError> {
        let settings: Settings = serde_json::from_str(settings)
            .map_err(|e| JsError::new(&format!("reading the settings {settings}: {e}")))?;
        let device = match device {
            "gpu" => Device::Gpu,
            "cpu" => Device::Cpu,
            other => {
                return Err(JsError::new(&format!(
                    "device must be gpu or cpu, not {other:?}"
                )))
            }
        };
        let (train, test, dataset) = settings.generate();
        let live = Live::new(
            settings.experiment(device).map_err(js_error)?,
            &train,
            &test,
            clock(),
        )
        .map_err(js_error)?;
        Ok(Session {
            live: Rc::new(RefCell::new(Some(live))),
            dataset,
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
        Ok(report::table(&live.summary(self.dataset.clone(), true)))
    }

    /// The runs' names, in order, as JSON.
    pub fn runs(&self) -> Result<String, JsError> {
        let live = self.live.borrow();
        let live = live.as_ref().ok_or_else(in_progress)?;
        let names: Vec<&str> = live.runs().iter().map(|r| r.name.as_str()).collect();
        serde_json::to_string(&names).map_err(js_error)
    }

    /// The data the runs train on.
    pub fn dataset(&self) -> String {
        self.dataset.clone()
    }
}

fn in_progress() -> JsError {
    JsError::new("a step is in progress: await it first")
}

/// The page's clock, in seconds.
fn clock() -> kiln_experiments::cifar_bn::live::Clock {
    let performance = web_sys::window().and_then(|w| w.performance());
    Box::new(move || performance.as_ref().map_or(0.0, |p| p.now() / 1000.0))
}

fn js_error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

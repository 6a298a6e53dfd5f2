//! A model build defers the fills whose words are known (each tensor keeps its fill and where its
//! words start) and computes them when read, written or cut into shards. Deferring changes
//! nothing but the time and the memory: every example and real-model description gives, deferred
//! on 1 and 3 threads, the bytes of the build that draws everything as it goes
//! (`Builder::eager`), leaves the generator in the same state, and cuts shards along each
//! dimension that equal the cut of the eager tensor.

use std::path::Path;

use torch_rng::nn::{Builder, ModelDesc, NoRecorder};
use torch_rng::{Capability, Context, Tensor, Torch};

fn descriptions() -> Vec<(String, ModelDesc)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/models");
    let mut out = Vec::new();
    for dir in [root.clone(), root.join("real")] {
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for p in paths {
            let text = std::fs::read_to_string(&p).unwrap();
            let desc = ModelDesc::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            out.push((p.file_name().unwrap().to_string_lossy().into_owned(), desc));
        }
    }
    assert!(out.len() >= 10, "{} descriptions", out.len());
    out
}

fn build(desc: &ModelDesc, cx: Context, seed: u64, eager: bool) -> (Vec<(String, Tensor)>, Torch) {
    let mut torch = Torch::new(cx);
    torch.manual_seed(i128::from(seed)).unwrap();
    let mut quiet = NoRecorder;
    let m = {
        let mut b = Builder::for_torch(&mut torch, &mut quiet);
        if eager {
            b = b.eager();
        }
        desc.build_with(&mut b, &mut |_, _| {}).unwrap()
    };
    (desc.state_dict_of(m).unwrap(), torch)
}

#[test]
fn deferred_builds_equal_eager_builds() {
    let mut deferred_seen = 0;
    for (name, desc) in descriptions() {
        for cap in [Capability::Default, Capability::Avx2] {
            let (want, g) = build(&desc, Context::new(cap), 7, true);
            assert!(want.iter().all(|(_, t)| !t.is_deferred()), "{name}");
            for threads in [1, 3] {
                let cx = Context::new(cap).with_threads(threads);
                let (got, h) = build(&desc, cx, 7, false);
                assert_eq!(
                    g.generator(),
                    h.generator(),
                    "{name} {cap} {threads} threads"
                );
                assert_eq!(got.len(), want.len(), "{name}");
                deferred_seen += got.iter().filter(|(_, t)| t.is_deferred()).count();
                for ((n, a), (m, b)) in got.iter().zip(&want) {
                    assert_eq!(n, m, "{name}");
                    // Streamed (as a writer reads them), then computed whole.
                    assert_eq!(a.sha256_hex(), b.sha256_hex(), "{name} {n} {cap} {threads}");
                    assert_eq!(a, b, "{name} {n} {cap} {threads}");
                    assert_eq!(a.try_storage().unwrap(), b.storage(), "{name} {n}");
                }
                let (got, _) = build(&desc, cx, 7, false);
                for ((n, a), (_, b)) in got.iter().zip(&want) {
                    for dim in 0..a.shape().len() {
                        let size = a.shape()[dim];
                        for (start, len) in [(0, size / 2), (size / 3, size - size / 3)] {
                            let cut = a.narrow(dim, start, len).unwrap();
                            let full = b.narrow(dim, start, len).unwrap();
                            assert_eq!(
                                cut.to_le_bytes(),
                                full.to_le_bytes(),
                                "{name} {n} dim {dim} from {start}"
                            );
                        }
                    }
                }
            }
        }
    }
    assert!(deferred_seen > 100, "{deferred_seen} tensors deferred");
}

/// Deferred elements change nothing of what a tensor can do: it still crosses threads.
#[test]
fn tensors_stay_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Tensor>();
}

/// A build ended with `Builder::finish_unsettled` gives the same tensors and leaves the
/// generator where it stood before the deferred fills still owed at the end, not moved past
/// them (a build whose last draws were made for real owes nothing).
#[test]
fn an_unsettled_build_gives_the_same_tensors_and_leaves_the_generator() {
    let mut unmoved = 0;
    for (name, desc) in descriptions() {
        let cx = Context::new(Capability::Avx2).with_threads(2);
        let (want, settled) = build(&desc, cx, 11, false);
        let mut torch = Torch::new(cx);
        torch.manual_seed(11).unwrap();
        let mut quiet = NoRecorder;
        let mut b = Builder::for_torch(&mut torch, &mut quiet);
        let m = desc.build_with(&mut b, &mut |_, _| {}).unwrap();
        b.finish_unsettled();
        let got = desc.state_dict_of(m).unwrap();
        assert_eq!(got.len(), want.len(), "{name}");
        for ((n, a), (_, w)) in got.iter().zip(&want) {
            assert_eq!(a.sha256_hex(), w.sha256_hex(), "{name} {n}");
        }
        if torch.generator() != settled.generator() {
            unmoved += 1;
        }
    }
    assert!(
        unmoved >= 5,
        "{unmoved} descriptions owed deferred words at the end"
    );
}

//! Model descriptions: names, draws, ties and the errors that name their place.

use super::*;
use crate::modules::build::Limits;
use crate::modules::registry::Class;
use crate::modules::Conv2d;
use crate::torch::Torch;

fn parse_err(text: &str) -> String {
    ModelDesc::parse(text).unwrap_err().to_string()
}

const NET: &str = r#"{"format": "torch-rng-model/1", "modules": [
    {"name": "conv1", "module": "Conv2d", "in_channels": 1, "out_channels": 6, "kernel_size": 5},
    {"name": "conv2", "module": "Conv2d", "in_channels": 6, "out_channels": 16, "kernel_size": 5},
    {"name": "fc1", "module": "Linear", "in_features": 400, "out_features": 120},
    {"name": "fc2", "module": "Linear", "in_features": 120, "out_features": 84},
    {"name": "fc3", "module": "Linear", "in_features": 84, "out_features": 10}]}"#;

#[test]
fn net_names_and_draws() {
    let d = ModelDesc::parse(NET).unwrap();
    let sd = d.state_dict(&mut Torch::with_seed(1)).unwrap();
    let names: Vec<&str> = sd.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[..3], ["conv1.weight", "conv1.bias", "conv2.weight"]);
    assert_eq!(names.len(), 10);
    // The same draws as building the modules one after another.
    let c1 = Conv2d::new(1, 6, 5)
        .build(&mut Torch::with_seed(1))
        .unwrap();
    assert_eq!(sd[0].1, c1.params[0].1);
}

/// A tie makes one tensor under both names: at the end of the init passes it holds what was
/// drawn into it last; both names must be parameters.
#[test]
fn ties() {
    let desc = |init: &str| {
        format!(
            r#"{{"format": "torch-rng-model/1", "modules": [
            {{"name": "wte", "module": "Embedding", "num_embeddings": 5, "embedding_dim": 3}},
            {{"name": "head", "module": "Linear", "in_features": 3, "out_features": 5,
              "bias": false}}], "init": {init}}}"#
        )
    };
    let d = ModelDesc::parse(&desc(r#"[{"tie": "head.weight", "to": "wte.weight"}]"#)).unwrap();
    let mut torch = Torch::with_seed(0);
    let sd = d.state_dict(&mut torch).unwrap();
    assert_eq!(sd[1].0, "head.weight");
    assert_eq!(sd[0].1.bits(), sd[1].1.bits());
    // The Linear still drew its weight (15 words) before the tie replaced it; the 15
    // normals of the embedding take the per-element path (4 words per pair, 8 pairs).
    assert_eq!(torch.generator().engine().next_index(), 32 + 15);

    // A pass after the tie draws once, into the shared tensor: both names hold it.
    let d = ModelDesc::parse(&desc(
        r#"[{"tie": "head.weight", "to": "wte.weight"},
            {"named_parameters": {"name": "wte.weight"}, "init": {"fn": "uniform_"}}]"#,
    ))
    .unwrap();
    let mut torch = Torch::with_seed(0);
    let sd = d.state_dict(&mut torch).unwrap();
    assert_eq!(sd[0].1.bits(), sd[1].1.bits());
    assert_eq!(torch.generator().engine().next_index(), 32 + 15 + 15);
    // named_parameters() yields the shared tensor once, under its first name.
    let e = ModelDesc::parse(&desc(
        r#"[{"tie": "head.weight", "to": "wte.weight"},
            {"named_parameters": {"name": "head.weight"}, "init": {"fn": "zeros_"}}]"#,
    ))
    .unwrap()
    .state_dict(&mut Torch::with_seed(0))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("init[1]") && e.contains("matches no parameter"),
        "{e}"
    );
    let e = parse_err(&desc(r#"[{"tie": "head.weight"}]"#));
    assert!(e.contains("missing field 'to'"), "{e}");
    let d = ModelDesc::parse(&desc(r#"[{"tie": "head.bias", "to": "wte.weight"}]"#)).unwrap();
    let e = d
        .state_dict(&mut Torch::with_seed(0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no parameter 'head.bias'"), "{e}");
}

#[test]
fn bad_descriptions_name_the_place() {
    let e = parse_err(
        r#"{"format": "torch-rng-model/1", "modules": [{"name": "a", "module": "Linearr"}]}"#,
    );
    assert!(
        e.contains("modules[0] 'a'") && e.contains("unknown module"),
        "{e}"
    );
    let e = parse_err(
        r#"{"format": "torch-rng-model/1", "modules": [{"name": "a", "module": "Linear", "in_features": 3}]}"#,
    );
    assert!(e.contains("missing argument 'out_features'"), "{e}");
    let e = parse_err(
        r#"{"format": "torch-rng-model/1", "modules": [{"name": "a", "module": "Linear", "in_features": "3", "out_features": 2}]}"#,
    );
    assert!(e.contains("'in_features' must be an integer"), "{e}");
    let e = parse_err(
        r#"{"format": "torch-rng-model/1", "modules": [{"name": "a", "module": "Identity"}, {"name": "a", "module": "Identity"}]}"#,
    );
    assert!(
        e.contains("modules[1] 'a'") && e.contains("duplicate name"),
        "{e}"
    );
    let e = parse_err(
        r#"{"format": "torch-rng-model/1", "classes": {"A": [{"name": "b", "module": "B"}], "B": [{"name": "a", "module": "A"}]}, "modules": [{"name": "x", "module": "A"}]}"#,
    );
    assert!(e.contains("class cycle: A -> B -> A"), "{e}");
    let e = parse_err(
        r#"{"format": "torch-rng-model/1", "modules": [], "init": [{"apply": [{"module": "Linear", "init": {"weight": {"fn": "normal"}}}]}]}"#,
    );
    assert!(
        e.contains("init[0].apply[0].init.weight") && e.contains("unknown init function"),
        "{e}"
    );
}

fn model(classes: &str, modules: &str, init: &str) -> String {
    format!(
        r#"{{"format": "torch-rng-model/1", "classes": {{{classes}}}, "modules": [{modules}], "init": [{init}]}}"#
    )
}

fn build_err(text: &str) -> String {
    match ModelDesc::parse(text) {
        Ok(d) => d
            .state_dict(&mut Torch::with_seed(0))
            .map(|_| ())
            .expect_err("refused")
            .to_string(),
        Err(e) => e.to_string(),
    }
}

const LIN: &str = r#"{"name": "fc", "module": "Linear", "in_features": 3, "out_features": 2}"#;

/// Today's silent no-ops are errors naming the place (issue 9, part 3).
#[test]
fn strict_rules_selections_and_classes() {
    let rule = |r: &str| model("", LIN, &format!(r#"{{"apply": [{r}]}}"#));
    let e = build_err(&rule(
        r#"{"module": "Linear", "init": {"wieght": {"fn": "zeros_"}}}"#,
    ));
    assert!(
        e.contains("init[0].apply[0].init.wieght") && e.contains("has a parameter 'wieght'"),
        "{e}"
    );
    let e = build_err(&rule(r#"{"module": "Linaer", "init": {}}"#));
    assert!(
        e.contains("init[0].apply[0]") && e.contains("unknown class 'Linaer'"),
        "{e}"
    );
    let e = build_err(&rule(r#"{"module": "Conv2d", "init": {}}"#));
    assert!(e.contains("Conv2d matches no module in the model"), "{e}");
    // An isinstance tuple needs one class that matches (torchvision's (BatchNorm2d, GroupNorm)).
    assert!(ModelDesc::parse(&rule(
        r#"{"module": ["Linear", "GroupNorm"], "init": {"bias": {"fn": "zeros_"}}}"#
    ))
    .unwrap()
    .state_dict(&mut Torch::with_seed(0))
    .is_ok());
    let e = build_err(&model(
        "",
        LIN,
        r#"{"named_parameters": {"endswith": "c_proj.weight"}, "init": {"fn": "zeros_"}}"#,
    ));
    assert!(
        e.contains("init[0]") && e.contains("matches no parameter"),
        "{e}"
    );
    let e = parse_err(&model(
        r#""Unused": [{"name": "a", "module": "Identity"}]"#,
        LIN,
        "",
    ));
    assert!(
        e.contains("classes.Unused") && e.contains("never used"),
        "{e}"
    );
    let e = build_err(&model(
        "",
        r#"{"name": "fc", "module": "Linear", "in_features": 3, "out_features": 2, "bias": false,
            "then": {"bias": {"fn": "zeros_"}}}"#,
        "",
    ));
    assert!(
        e.contains("modules[0] 'fc'.then.bias") && e.contains("no parameter 'bias'"),
        "{e}"
    );
    let e = build_err(&model(
        "",
        LIN,
        r#"{"on": "fc2", "init": {"weight": {"fn": "zeros_"}}}"#,
    ));
    assert!(e.contains("'on': no submodule 'fc2'"), "{e}");
    let e = build_err(&model(
        "",
        LIN,
        r#"{"init": {"fc.wieght": {"fn": "zeros_"}}}"#,
    ));
    assert!(
        e.contains("init[0].init.fc.wieght") && e.contains("no parameter"),
        "{e}"
    );
    let e = build_err(&model(
        "",
        r#"{"name": "p", "module": "Parameter", "size": [2], "init": "empty"}"#,
        "",
    ));
    assert!(e.contains("'p' is torch.empty"), "{e}");
    let e = parse_err(&model(
        "",
        r#"{"name": "s", "module": "Sequential", "modules": [{"apply": []}]}"#,
        "",
    ));
    assert!(e.contains("an init step may stand only in a Module"), "{e}");
    let e = parse_err(&model(
        r#""B": {"args": ["d"], "modules": [{"name": "fc", "module": "Linear", "in_features": "$dd", "out_features": 1}]}"#,
        r#"{"name": "b", "module": "B", "d": 3}"#,
        "",
    ));
    assert!(
        e.contains("classes.B(d=3)") && e.contains("no argument 'dd'"),
        "{e}"
    );
    let e = parse_err(&model(
        "",
        r#"{"name": "s", "module": "Sequential", "modules": [
            {"name": "1", "module": "Identity"}, {"module": "Identity", "repeat": 2}]}"#,
        "",
    ));
    assert!(e.contains("duplicate name '1'"), "{e}");
}

/// Class arguments, `when`, a dotted rule parameter, steps in a class body and `then`.
#[test]
fn classes_with_arguments_and_steps() {
    let text = model(
        r#""Attn": {"args": ["d"], "modules": [
            {"name": "c_attn", "module": "Linear", "in_features": "$d", "out_features": "3 * $d"},
            {"name": "c_proj", "module": "Linear", "in_features": "$d", "out_features": "$d",
             "bias": false, "when": true},
            {"name": "extra", "module": "Linear", "in_features": 1, "out_features": 1, "when": false},
            {"apply": [{"module": "Linear", "init": {"weight": {"fn": "ones_"}}}]}]}"#,
        r#"{"name": "a", "module": "Attn", "d": 4},
           {"name": "b", "module": "Attn", "d": 2,
            "then": {"c_attn.bias": {"fn": "constant_", "val": 2.0}}}"#,
        r#"{"apply": [{"module": "Attn", "init": {"c_proj.weight": {"fn": "zeros_"}}}], "on": "b"}"#,
    );
    let sd = ModelDesc::parse(&text)
        .unwrap()
        .state_dict(&mut Torch::with_seed(0))
        .unwrap();
    let names: Vec<&str> = sd.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "a.c_attn.weight",
            "a.c_attn.bias",
            "a.c_proj.weight",
            "b.c_attn.weight",
            "b.c_attn.bias",
            "b.c_proj.weight"
        ]
    );
    assert_eq!(sd[0].1.shape(), [12, 4]);
    assert!(sd[0].1.bits().iter().all(|&b| b == 0x3f80_0000));
    assert!(sd[4].1.bits().iter().all(|&b| b == 0x4000_0000));
    assert!(sd[5].1.bits().iter().all(|&b| b == 0));
    assert!(sd[2].1.bits().iter().all(|&b| b == 0x3f80_0000));
}

fn chain(n: usize) -> String {
    let classes: Vec<String> = (0..n)
        .map(|i| {
            let body = if i + 1 < n {
                format!(r#"[{{"name": "c", "module": "C{}"}}]"#, i + 1)
            } else {
                r#"[{"name": "fc", "module": "Linear", "in_features": 1, "out_features": 1}]"#
                    .to_string()
            };
            format!(r#""C{i}": {body}"#)
        })
        .collect();
    model(&classes.join(", "), r#"{"name": "c", "module": "C0"}"#, "")
}

/// The stack of the thread that reads and builds a model as deep as the limit allows: an eighth of
/// a test thread's default 2 MiB in release builds, half of it in debug builds (whose frames are
/// several times larger).
const STACK: usize = if cfg!(debug_assertions) {
    1 << 20
} else {
    256 << 10
};

/// Issue 10, item 2: a chain of 2,500 described classes is refused by the depth limit, quickly
/// and with recursion bounded by the limit (on a thread with a small stack); a chain at the
/// limit builds.
#[test]
fn deep_chains_are_refused_not_overflowed() {
    let long = chain(2500);
    let at_limit = chain(31);
    let t = std::thread::Builder::new()
        .stack_size(
            std::env::var("PROBE_STACK")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(STACK),
        )
        .spawn(move || {
            let start = std::time::Instant::now();
            let e = ModelDesc::parse(&long).unwrap_err();
            assert!(matches!(e, Error::LimitExceeded { .. }), "{e}");
            let e = e.to_string();
            assert!(
                e.contains("--max-depth 32") && e.contains("classes.C31"),
                "{e}"
            );
            assert!(start.elapsed().as_secs() < 5);
            let d = ModelDesc::parse(&at_limit).unwrap();
            let sd = d.state_dict(&mut Torch::with_seed(0)).unwrap();
            assert_eq!(sd.len(), 2);
            assert_eq!(sd[0].0.matches('.').count(), 32);
        })
        .unwrap();
    t.join().unwrap();
    let deeper = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    let e = ModelDesc::parse_with(&chain(3), deeper)
        .unwrap_err()
        .to_string();
    assert!(e.contains("nest 4 levels deep"), "{e}");
}

/// Issue 10, item 3: 25 levels of classes holding two of the next class (2^25 modules; 40 levels
/// are refused by the depth limit before that) are
/// refused before anything is expanded; so are repeats and argument lists that multiply.
#[test]
fn exponential_descriptions_are_refused_quickly() {
    let start = std::time::Instant::now();
    let classes: Vec<String> = (0..25)
        .map(|i| {
            let next = if i + 1 < 25 {
                format!("L{}", i + 1)
            } else {
                "Identity".to_string()
            };
            format!(
                r#""L{i}": [{{"name": "a", "module": "{next}"}}, {{"name": "b", "module": "{next}"}}]"#
            )
        })
        .collect();
    let e = parse_err(&model(
        &classes.join(", "),
        r#"{"name": "x", "module": "L0"}"#,
        "",
    ));
    assert!(e.contains("--max-modules 1000000"), "{e}");
    let e = parse_err(&model(
        "",
        r#"{"name": "l", "module": "ModuleList", "modules": [{"module": "Identity", "repeat": 1000000000000000000}]}"#,
        "",
    ));
    assert!(e.contains("'repeat' would create"), "{e}");
    // Distinct argument lists at every level: 2^k instances.
    let classes: Vec<String> = (0..25)
        .map(|i| {
            let next = if i + 1 < 25 {
                format!(
                    r#"{{"name": "a", "module": "D{0}", "n": "2 * $n"}}, {{"name": "b", "module": "D{0}", "n": "2 * $n + 1"}}"#,
                    i + 1
                )
            } else {
                r#"{"name": "a", "module": "Identity"}"#.to_string()
            };
            format!(r#""D{i}": {{"args": ["n"], "modules": [{next}]}}"#)
        })
        .collect();
    let e = parse_err(&model(
        &classes.join(", "),
        r#"{"name": "x", "module": "D0", "n": 0}"#,
        "",
    ));
    assert!(e.contains("--max-modules"), "{e}");
    assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
}

/// Issue 10, item 3: `repeat` of 10^5 items checks its names in linear time.
#[test]
fn long_repeats_are_linear() {
    let start = std::time::Instant::now();
    let text = model(
        "",
        r#"{"name": "l", "module": "Sequential", "modules": [{"module": "Identity", "repeat": 100000}, {"name": "last", "module": "Identity"}]}"#,
        "",
    );
    let d = ModelDesc::parse(&text).unwrap();
    let m = d.build(&mut Torch::with_seed(0)).unwrap();
    assert_eq!(m.children[0].1.children.len(), 100_001);
    assert_eq!(m.children[0].1.children[99_999].0, "99999");
    assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
}

/// Issue 10, item 3: built-in modules that would allocate past the budget are refused before
/// they allocate, naming the limit and the module.
#[test]
fn allocations_are_budgeted() {
    let start = std::time::Instant::now();
    let e = build_err(&model(
        "",
        r#"{"name": "rnn", "module": "RNN", "input_size": 1, "hidden_size": 1, "num_layers": 1000000000}"#,
        "",
    ));
    assert!(
        e.contains("rnn: the build would allocate 1000001 parameter and buffer tensors")
            && e.contains("--max-parameters 1000000"),
        "{e}"
    );
    let e = build_err(&model(
        "",
        r#"{"name": "t", "module": "Transformer", "d_model": 2, "nhead": 1, "num_encoder_layers": 100000000, "dim_feedforward": 2}"#,
        "",
    ));
    assert!(
        e.contains("t: the build would allocate") && e.contains("--max-parameters"),
        "{e}"
    );
    assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    // Three Linear(30000, 30000) (10.8 GB) pass the per-tensor cap but not the default 8 GiB per
    // model; the same at a hundredth of the scale, under a budget for two of them.
    let three = model(
        "",
        r#"{"name": "a", "module": "Linear", "in_features": 300, "out_features": 300},
           {"name": "b", "module": "Linear", "in_features": 300, "out_features": 300},
           {"name": "c", "module": "Linear", "in_features": 300, "out_features": 300}"#,
        "",
    );
    let small = Limits {
        max_bytes: 800_000,
        ..Limits::default()
    };
    let d = ModelDesc::parse_with(&three, small).unwrap();
    let e = d.build(&mut Torch::with_seed(0)).unwrap_err().to_string();
    assert!(
        e.contains("c: the build would allocate 1082400 bytes") && e.contains("--max-bytes 800000"),
        "{e}"
    );
    assert_eq!(Limits::default().max_bytes, 8 << 30);
}

/// Issue 10, item 6: shape products are checked (PyTorch cannot pass them to torch.empty), and
/// errors raised while building name the module path and the place in the description.
#[test]
fn overflowing_shapes_and_located_errors() {
    let e = build_err(&model(
        "",
        r#"{"name": "lstm", "module": "LSTM", "input_size": 3, "hidden_size": 4611686018427387904}"#,
        "",
    ));
    assert!(
        e.contains("lstm (model.modules[0] 'lstm')")
            && e.contains("gate_size = 4 * 4611686018427387904 does not fit in int64"),
        "{e}"
    );
    let e = build_err(&model(
        "",
        r#"{"name": "mha", "module": "MultiheadAttention", "embed_dim": 4611686018427387904, "num_heads": 4611686018427387904}"#,
        "",
    ));
    assert!(
        e.contains("3 * embed_dim = 3 * 4611686018427387904 does not fit in int64"),
        "{e}"
    );
    let e = build_err(&model(
        r#""Block": {"args": ["d"], "modules": [{"name": "fc", "module": "Linear", "in_features": "$d - 5", "out_features": 2}]}"#,
        r#"{"name": "h", "module": "ModuleList", "modules": [{"module": "Block", "d": 3, "repeat": 2}]}"#,
        "",
    ));
    assert!(
        e.contains("h.0.fc (classes.Block(d=3).modules[0] 'fc')")
            && e.contains("negative dimension -2"),
        "{e}"
    );
}

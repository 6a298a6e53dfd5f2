//! Model descriptions: names, draws, ties and the errors that name their place.

use super::*;
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

/// A tie puts the final `to` tensor under both names; ties must come last and name
/// parameters that exist.
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

    let e = parse_err(&desc(
        r#"[{"tie": "head.weight", "to": "wte.weight"},
            {"named_parameters": {"name": "wte.weight"}, "init": {"fn": "zeros_"}}]"#,
    ));
    assert!(
        e.contains("init[1]") && e.contains("ties must come after"),
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

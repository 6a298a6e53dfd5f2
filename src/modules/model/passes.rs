//! The init passes of a description, run after construction: `model.apply(fn)` rules,
//! `named_parameters()` selections and ties.

use super::{bad, Pass};
use crate::error::Result;
use crate::modules::build::{Builder, ParamInit};
use crate::modules::{zero_row, Module};

/// The module at a dotted path and the last segment (`lm_head.weight` gives `lm_head`, `weight`).
fn owner<'a>(root: &'a mut Module, name: &'a str) -> Option<(&'a mut Module, &'a str)> {
    let (path, attr) = name.rsplit_once('.').unwrap_or(("", name));
    let mut m = root;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        m = &mut m.children.iter_mut().find(|(n, _)| n == part)?.1;
    }
    Some((m, attr))
}

/// A tie: the parameter `name` becomes a copy of the parameter `to` (the same tensor in
/// PyTorch; both names stay in the `state_dict`).
fn tie(root: &mut Module, b: &mut Builder<'_>, name: &str, to: &str, at: &str) -> Result<()> {
    let missing = |n: &str| bad(at, format!("tie: no parameter '{n}' in the model"));
    let t = owner(root, to)
        .and_then(|(m, attr)| m.param_mut(attr))
        .ok_or_else(|| missing(to))?
        .clone();
    let slot = owner(root, name)
        .and_then(|(m, attr)| m.param_mut(attr))
        .ok_or_else(|| missing(name))?;
    *slot = t;
    b.note(
        name,
        slot,
        &format!("{name} = {to} (tied: one tensor under both names)"),
        &format!("the final value of {to}"),
        Some(0),
    );
    Ok(())
}

/// `module.apply(f)` (children first, then the module) with each module's dotted prefix
/// (`h.0.attn.`, empty for the root).
fn apply_named(
    m: &mut Module,
    prefix: &str,
    f: &mut dyn FnMut(&str, &mut Module) -> Result<()>,
) -> Result<()> {
    for (n, c) in &mut m.children {
        let p = if n.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}{n}.")
        };
        apply_named(c, &p, f)?;
    }
    f(prefix, m)
}

/// Runs one pass on the built model.
pub(super) fn run(root: &mut Module, pass: &Pass, b: &mut Builder<'_>) -> Result<()> {
    match pass {
        Pass::Tie { name, to, at } => tie(root, b, name, to, at),
        Pass::Apply(rules) => apply_named(root, "", &mut |prefix, m: &mut Module| {
            let Some(rule) = rules
                .iter()
                .find(|r| r.classes.iter().any(|c| m.is_instance(c)))
            else {
                return Ok(());
            };
            for (pname, call) in &rule.inits {
                if let Some(p) = m.param_mut(pname) {
                    let how = ParamInit::new(call.clone());
                    b.init_param(&format!("{prefix}{pname}"), p, &how)?;
                }
            }
            if rule.zero_padding_idx {
                if let Some(row) = m.padding_idx {
                    if let Some(w) = m.param_mut("weight") {
                        zero_row(w, row);
                        b.note(
                            &format!("{prefix}weight"),
                            w,
                            &format!("weight[{row}].zero_() (the apply rule's zero_padding_idx)"),
                            &format!("row {row} set to zeros"),
                            Some(0),
                        );
                    }
                }
            }
            Ok(())
        }),
        Pass::Parameters {
            name,
            endswith,
            min_dim,
            init,
        } => {
            let how = ParamInit::new(init.clone());
            root.for_each_parameter_mut(&mut |pn, p| {
                let hit = name.as_ref().is_none_or(|n| n == pn)
                    && endswith.as_ref().is_none_or(|s| pn.ends_with(s.as_str()))
                    && min_dim.is_none_or(|d| p.shape().len() as i64 >= d);
                if hit {
                    b.init_param(pn, p, &how)
                } else {
                    Ok(())
                }
            })
        }
    }
}

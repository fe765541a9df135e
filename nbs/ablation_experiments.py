"""Experiment driver of nbs/21_ablation.ipynb (and the CPU-speed measurement of nbs/20_train_runs.ipynb).

The notebooks' `#| slow` cells call the functions here; the background run used for the committed results was
`.venv/bin/python nbs/ablation_experiments.py [BENCH ...]` (same functions, same order; BENCH is a key of BENCHMARKS,
default davis5i synth5i). The scale of each benchmark (iterations, image size, lr grid, seeds, episodes) is its
BENCHMARKS entry; a benchmark's results go to results/ablation/<BENCH>/ and its checkpoints to runs/ablation/<BENCH>/.
Every stage skips work whose output already exists (checkpoints in runs/ablation/, result files in results/ablation/)
unless `rerun=True`.
Only srpnet's public API is used: RunConfig, train, load_model, validation_dataset, normalisation (srpnet.train),
FeatureCache, choose_eta, evaluate, write_results, code_version (srpnet.evaluate).
"""
from __future__ import annotations
import csv, json, shutil, sys, time
from dataclasses import asdict, replace
from pathlib import Path
import torch
from srpnet.train import RunConfig, train, load_model, validation_dataset, normalisation
from srpnet.evaluate import FeatureCache, choose_eta, evaluate, write_results, code_version

REPO = Path(__file__).resolve().parent.parent
RUNS, RESULTS = REPO/'runs'/'ablation', REPO/'results'/'ablation'
TRAINED = ('Cos', 'F', 'F+SRP')          # one trained model per row group of Table 1 (IQI and (sup) are inference-time)
ETAS = (0.1, 1., 10., 30., 100., 300., 1e3, 3e3, 1e4)   # log-spaced over 5 decades (method page section 6, nbs/method.ipynb)

# CPU-scale settings (the paper: ResNet-50, 417 px, 30k iterations, lr 1e-3, 5 seeds x 1000 episodes)
BENCHMARKS = {
    'davis5i': dict(
        # ImageNet EfficientNet-Lite0 pyramid with frozen stages: only the 1x1 fusion conv (472 -> 512) is trained
        config=RunConfig(dataset='davis5i', backbone='lite0', weights='imagenet', freeze_stages=True, size=225,
                         iters=300, lr=1e-2, val_every=0, ckpt_every=300, seed=0),
        lr_grid=(1e-2, 1e-1), lr_check_iters=60, lr_check_episodes=48,
        seeds=(0, 1, 2, 3, 4), n_episodes=120, eta_episodes=60),
    'synth5i': dict(
        # ResNet-18 trained from scratch (random init) on the built-in Synth-5i tree (160 px images, fed at 64 px);
        # 1000 iterations (lr x0.1 every iters // 3 = 333, RunConfig's default schedule), 5 seeds x 200 episodes
        config=RunConfig(dataset='synth5i', backbone='resnet18', weights=None, size=64,
                         iters=1000, lr=1e-2, val_every=0, ckpt_every=1000, seed=0),
        lr_grid=(1e-2, 5e-2), lr_check_iters=60, lr_check_episodes=48,
        seeds=(0, 1, 2, 3, 4), n_episodes=200, eta_episodes=60),
    'synth5i-300it': dict(
        # the first, shorter Synth-5i run (kept to show the effect of training length): same model and protocol,
        # 300 iterations (lr step every 100), 5 seeds x 120 episodes; results in results/ablation/synth5i-300it/
        config=RunConfig(dataset='synth5i', backbone='resnet18', weights=None, size=64,
                         iters=300, lr=1e-2, val_every=0, ckpt_every=300, seed=0),
        lr_grid=(1e-2, 5e-2), lr_check_iters=60, lr_check_episodes=48,
        seeds=(0, 1, 2, 3, 4), n_episodes=120, eta_episodes=60),
}

def log(*a): print(time.strftime('%H:%M:%S'), *a, flush=True)

def _timings(bench) -> dict:
    p = RESULTS/bench/'timings.json'
    return json.loads(p.read_text()) if p.is_file() else {}

def _record_time(bench, key, seconds):
    t = _timings(bench); t[key] = round(seconds, 1)
    (RESULTS/bench).mkdir(parents=True, exist_ok=True); (RESULTS/bench/'timings.json').write_text(json.dumps(t, indent=1))

def choose_lr(bench, rerun=False) -> float:
    "Train F on fold 0 for the first `lr_check_iters` iterations of the schedule per candidate lr; keep the best base-class val mIoU"
    spec, out = BENCHMARKS[bench], RESULTS/bench/'lr_choice.json'
    if out.is_file() and not rerun: return json.loads(out.read_text())['lr']
    t0, base, rows = time.time(), spec['config'], []
    for lr in spec['lr_grid']:
        cfg = replace(base, variant='F', fold=0, lr=lr, iters=spec['lr_check_iters'], lr_step=base.milestone_step,
                      val_every=spec['lr_check_iters'], val_episodes=spec['lr_check_episodes'],
                      ckpt_every=spec['lr_check_iters'], out=str(RUNS/bench/'lr_check'/f'lr{lr:g}'))
        try:
            run = train(cfg, progress=False)
            s = json.loads((run/'summary.json').read_text())
            losses = [float(r['loss']) for r in csv.DictReader(open(run/'train_log.csv'))]
            n = max(1, len(losses) // 4)
            rows.append(dict(lr=lr, val_miou=s['best_val_miou'], loss_first=sum(losses[:n]) / n, loss_last=sum(losses[-n:]) / n))
        except FloatingPointError as e: rows.append(dict(lr=lr, val_miou=-1., error=str(e)))
        log(bench, 'lr check', rows[-1])
    best = max(rows, key=lambda r: r['val_miou'])['lr']
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(lr=best, candidates=rows, iters=spec['lr_check_iters'], fold=0, variant='F',
                                   val_episodes=spec['lr_check_episodes'], note='base-class validation episodes of fold 0 (test classes unused)'), indent=1))
    _record_time(bench, 'lr_check_s', time.time() - t0)
    return best

def run_config(bench, variant, fold, lr) -> RunConfig:
    return replace(BENCHMARKS[bench]['config'], variant=variant, fold=fold, lr=lr, out=str(RUNS/bench/variant/f'fold{fold}'))

def train_models(bench, variants=TRAINED, folds=(0, 1, 2, 3), rerun=False):
    "Train each (variant, fold) into runs/ablation/<bench>/<variant>/fold<k>/; copy its logs to results/"
    lr = choose_lr(bench)
    for variant in variants:
        for fold in folds:
            cfg = run_config(bench, variant, fold, lr); run = Path(cfg.out)
            if (run/'model.pt').is_file() and not rerun: continue
            t0 = time.time(); train(cfg, progress=False)
            logs = RESULTS/bench/'train_logs'; logs.mkdir(parents=True, exist_ok=True)
            shutil.copy(run/'train_log.csv', logs/f'{variant}_fold{fold}.csv')
            shutil.copy(run/'summary.json', logs/f'{variant}_fold{fold}_summary.json')
            _record_time(bench, f'train_{variant}_fold{fold}_s', time.time() - t0)
            log(bench, 'trained', variant, fold, round(time.time() - t0), 's')

def sweep_eta(bench, fold, variant, rerun=False) -> dict:
    "IQI step chosen on base-class validation episodes (the other folds' classes) for one trained model"
    out = RESULTS/bench/'eta'/f'{variant}_fold{fold}.json'
    if out.is_file() and not rerun: return json.loads(out.read_text())
    t0, lr = time.time(), choose_lr(bench)
    cfg = run_config(bench, variant, fold, lr); model = load_model(cfg.out)
    mean, std = normalisation(model)
    val = validation_dataset(cfg, BENCHMARKS[bench]['eta_episodes'], mean=mean, std=std)
    best, info = choose_eta(model, val, etas=ETAS, progress=False)
    res = dict(benchmark=bench, fold=fold, variant=variant, eta=best, **info, scores_list=[[k, v] for k, v in info['scores'].items()],
               note='base-class validation episodes (validation_dataset: val split of the other three folds), model input resolution')
    res.pop('scores')
    out.parent.mkdir(parents=True, exist_ok=True); out.write_text(json.dumps(res, indent=1))
    _record_time(bench, f'eta_{variant}_fold{fold}_s', time.time() - t0)
    log(bench, 'eta', variant, fold, best, round(time.time() - t0), 's')
    return res

def evaluate_model(bench, variant, fold, rerun=False) -> dict:
    "Test-fold evaluation of one trained model, as all its Table 1 variants (IQI with the eta chosen on validation)"
    out = RESULTS/bench/'evals'/f'{variant}_fold{fold}.json'
    if out.is_file() and not rerun: return json.loads(out.read_text())
    t0, spec, lr = time.time(), BENCHMARKS[bench], choose_lr(bench)
    cfg = run_config(bench, variant, fold, lr); model = load_model(cfg.out)
    if variant != 'Cos': model.eta = float(sweep_eta(bench, fold, variant)['eta'])
    res = evaluate(model, cfg, seeds=spec['seeds'], n_episodes=spec['n_episodes'], checkpoint=Path(cfg.out)/'model.pt',
                   config=cfg, progress=False)
    out.parent.mkdir(parents=True, exist_ok=True); out.write_text(json.dumps(res))
    _record_time(bench, f'eval_{variant}_fold{fold}_s', time.time() - t0)
    log(bench, 'evaluated', variant, fold, {v: round(e['miou']['mean'] * 100, 1) for v, e in res['variants'].items()}, round(time.time() - t0), 's')
    return res

def collect(bench) -> Path:
    "write_results over every evaluation done so far (results/ablation/<bench>/results.json, table.md, ...)"
    complete = [f for f in range(4) if all((RESULTS/bench/'evals'/f'{v}_fold{f}.json').is_file() for v in TRAINED)]
    results = [json.loads((RESULTS/bench/'evals'/f'{v}_fold{f}.json').read_text()) for f in complete for v in TRAINED]
    etas = {p.stem: json.loads(p.read_text())['eta'] for p in sorted((RESULTS/bench/'eta').glob('*.json'))}
    spec = BENCHMARKS[bench]
    scale = dict(config=asdict(spec['config']), lr=choose_lr(bench), seeds=list(spec['seeds']), n_episodes=spec['n_episodes'],
                 eta_episodes=spec['eta_episodes'], etas=list(ETAS), torch_threads=torch.get_num_threads())
    return write_results(results, RESULTS/bench, extra=dict(benchmark=bench, chosen_eta=etas, scale=scale,
                                                            timings=_timings(bench), code=code_version()))

def run_benchmark(bench, rerun=False):
    "Everything for one benchmark: lr check, training (Cos, F first, then F+SRP), eta sweeps, evaluation, results files"
    done = [RESULTS/bench/'evals'/f'{v}_fold{f}.json' for v in TRAINED for f in range(4)]
    if not rerun and (RESULTS/bench/'results.json').is_file() and all(p.is_file() for p in done):
        return RESULTS/bench                     # complete: nothing to do (the committed files stay as they are)
    t0 = time.time()
    choose_lr(bench, rerun=rerun)
    train_models(bench, ('Cos', 'F'), rerun=rerun)
    train_models(bench, ('F+SRP',), rerun=rerun)
    for fold in range(4):
        for variant in TRAINED: evaluate_model(bench, variant, fold, rerun=rerun)
        collect(bench)                           # after each complete fold (every row then covers the same folds)
    _record_time(bench, 'total_s', time.time() - t0 + _timings(bench).get('total_s', 0.))
    return collect(bench)

def measure_resnet50_step(n_iters=3, size=417, rerun=False) -> dict:
    "Seconds per training step of the paper's model (ResNet-50 pyramid, random init, 1-way 1-shot, 417 px) on this CPU"
    out = REPO/'results'/'train_runs'/'resnet50_cpu_step.json'
    if out.is_file() and not rerun: return json.loads(out.read_text())
    from srpnet.model import SRPNet
    torch.manual_seed(0)
    model = SRPNet(backbone='resnet50', weights=None, metric='fidelity', srp=True).train()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3, momentum=0.9, weight_decay=5e-4)
    x, q = torch.randn(1, 1, 3, size, size), torch.randn(1, 3, size, size)
    y = (torch.rand(1, 1, size, size) > 0.5).long(); yq = y[0]
    times = []
    for _ in range(n_iters + 1):     # the first step (allocation warm-up) is not counted
        t = time.time(); o = model(x, y, q, yq); opt.zero_grad(); o.loss.backward(); opt.step(); times.append(time.time() - t)
    import os
    res = dict(seconds_per_step=sorted(times[1:])[len(times[1:]) // 2], steps=times[1:], size=size, torch_threads=torch.get_num_threads(),
               cpu_count=os.cpu_count(), note='random-init ResNet-50 pyramid (same FLOPs as ImageNet init), fp32, CPU shared with other jobs')
    out.parent.mkdir(parents=True, exist_ok=True); out.write_text(json.dumps(res, indent=1))
    return res

if __name__ == '__main__':
    torch.set_num_threads(1)   # the 2 cores are shared with other jobs: one thread avoids oversubscription
    for bench in (sys.argv[1:] or ['davis5i', 'synth5i']):
        if bench not in BENCHMARKS and bench != 'resnet50':
            sys.exit(f"unknown benchmark {bench!r}: use one of {sorted(BENCHMARKS)} or 'resnet50'")
        if bench == 'resnet50': log('resnet50 step', measure_resnet50_step()); continue
        log('start', bench); run_benchmark(bench); log('done', bench)

"""Land-cover classifiers: one training job per model (gpu=1), then originals against the DIP-generated
and the published tiles (sardip.tile_images)."""

# Settings that shape a trained model; device, threads and resources do not, so they stay out of params.
TRAIN_KEYS = (
    "epochs", "batch_size", "input_size", "lr", "weight_decay", "patience", "seed", "val_fraction",
    "normalisation", "num_workers",
)  # fmt: skip


rule train_classifier:
    input:
        inventory=rules.inventory.output.inventory,
        test_tiles=rules.convergence_filter.output.kept,
    output:
        checkpoint="results/classify/{model}/checkpoint.pt",
        pool="results/classify/{model}/pool.tsv",
        history=report(
            "results/classify/{model}/history.tsv",
            caption="../workflow_report/history.rst",
            category="5. Classifiers",
            subcategory="{model}",
        ),
    log:
        "logs/classify/{model}/train.log",
    benchmark:
        "benchmarks/train_classifier/{model}.tsv"
    conda:
        "../envs/sardip.yaml"
    threads: config["classify"]["threads"]
    resources:
        gpu=1,
        mem_mb=config["classify"]["mem_mb"],
        runtime=config["classify"]["runtime"],
    params:
        settings={k: config["classify"][k] for k in TRAIN_KEYS},
    message:
        "Training {wildcards.model} on the training pool"
    script:
        "../scripts/train_classifier.py"


rule evaluate_classifier:
    input:
        unpack(
            lambda wildcards: {
                image: expand(f"results/dip/{{tile}}/{name}", tile=kept_tiles())
                for image, name in IMAGE_FILES.items()
            }
        ),
        checkpoint=rules.train_classifier.output.checkpoint,
        kept=rules.convergence_filter.output.kept,
        selected=rules.select_tiles.output.selected,
    output:
        predictions="results/classify/{model}/predictions.tsv",
        accuracy="results/classify/{model}/accuracy.tsv",
        confusion_original="results/classify/{model}/confusion_original.csv",
        confusion_generated="results/classify/{model}/confusion_generated.csv",
        confusion_published="results/classify/{model}/confusion_published.csv",
    log:
        "logs/classify/{model}/evaluate.log",
    benchmark:
        "benchmarks/evaluate_classifier/{model}.tsv"
    conda:
        "../envs/sardip.yaml"
    threads: config["classify"]["threads"]
    resources:
        mem_mb=config["classify"]["mem_mb"],
    message:
        "Classifying the kept tiles, original, generated and published, with {wildcards.model}"
    script:
        "../scripts/evaluate_classifier.py"


rule fig_confusion:
    input:
        original=rules.evaluate_classifier.output.confusion_original,
        result="results/classify/{model}/confusion_{image}.csv",
    output:
        figure=report(
            "results/figures/{image}/fig22_confusion_{model}.png",
            caption="../workflow_report/fig22.rst",
            category="5. Classifiers",
            subcategory="{image} image",
        ),
    log:
        "logs/figures/{image}/fig22_confusion_{model}.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    message:
        "Figures 22-23 (confusion matrices of {wildcards.model}, {wildcards.image} image)"
    script:
        "../scripts/fig_confusion.py"


rule fig_accuracy:
    input:
        accuracy=expand(
            "results/classify/{model}/accuracy.tsv", model=config["classify"]["models"]
        ),
    output:
        figure=report(
            "results/figures/{image}/fig20_accuracy.png",
            caption="../workflow_report/fig20.rst",
            category="5. Classifiers",
            subcategory="{image} image",
        ),
    log:
        "logs/figures/{image}/fig20_accuracy.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        models=config["classify"]["models"],
    message:
        "Figures 20-21 (accuracy per class, originals against the {wildcards.image} image)"
    script:
        "../scripts/fig_accuracy.py"

"""`keras-dae export`: a zoo denoiser's `denoise` as an ONNX file or a TensorFlow SavedModel,
for serving without keras-dae (`keras_dae.zoo.export`)."""

from keras_dae.cli.commands import UsageError, _load_model

FORMATS = ("onnx", "saved_model")


def export(args):
    """Writes the serving graph of `args.model` to `args.output` in `args.format`; every check
    (format, target, backend, model) comes before anything is written."""
    if args.format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}. Received: --format {args.format}")
    from keras_dae.zoo import export as exporting

    try:
        exporting.check_target(args.output, args.format)
        exporting.check_backend(args.format)
    except (ValueError, ImportError, NotImplementedError) as e:
        raise UsageError(str(e)) from None
    if args.format == "saved_model" and not args.verbose:
        from keras_dae import backend, startup

        with startup.silenced_stderr():  # TensorFlow's start-up notices (jax2tf imports it on JAX)
            backend.import_tensorflow()
    model = _load_model(args.model)
    try:
        serving = exporting.serving_model(model)
    except ValueError as e:
        raise UsageError(str(e)) from None
    path = exporting.export(model, args.output, args.format)
    what = "ONNX" if args.format == "onnx" else "SavedModel"
    print(f"exported {args.model} ({what}) → {path}: {exporting.describe(serving)}")
    return 0

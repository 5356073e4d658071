"""Neural Playground core: datasets, layer registry, model builder, engine, runner and figures."""

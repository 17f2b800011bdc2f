"""Scene-scale anonymisation for data providers: whole scenes and COGs, many polygons, bounded memory.

Light layers, which never load torch, the engine or the audit (``tests/test_layers.py``):
:mod:`~sardip.scene.source` (the input scene, read by windows, and its units),
:mod:`~sardip.scene.windows` (hidden areas and the windows around them), :mod:`~sardip.scene.output`
(the safe, traceless published copy and its sidecar), :mod:`~sardip.scene.settings` (how a scene is
anonymised) and :mod:`~sardip.scene.sheet` (the workflow's scene sheet, read when it starts). On top:
:mod:`~sardip.scene.anonymise` (plan, fit and publish:
:func:`~sardip.scene.anonymise.anonymise_scene`) and :mod:`~sardip.scene.jobs` (the same steps as
workflow jobs).
"""

# Text rasterising and the sprite cache (dm_compose). The text tests need the
# fonts the project depends on: fonts-noto-cjk and fonts-noto-color-emoji.
dm_add_unit_test(test_text SOURCES unit/test_text.c LIBS dm_compose LABELS compose)
dm_add_unit_test(test_sprite_cache SOURCES unit/test_sprite_cache.c LIBS dm_compose LABELS compose)

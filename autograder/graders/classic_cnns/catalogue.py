"""The catalogue of classic_cnns: answers the fidelity suite grades (autograder/authoring/catalogue.py).

MUTANTS are realistic wrong answers, each wrong in exactly the function it names: graded
on that function and on the functions that call it through the grader ([stand_ins]), it
must lose points there and keep full marks elsewhere (the graders answer the blocks of
VGG and DenseNet121 with stand-ins, and don't charge train_step for l2_penalty's bugs;
see conftest.py).
CORRECT are answers written differently from the reference; each must earn full marks.
ATTACKS are a perfect student plus one attack in one function, which scores 0 there. Some
redefine another function in the same cell (an l2_penalty that lies): those may cost that
function's points too (``spares_others=False``), never gain any.

Most mutants are the reference cell with one edit (``edit``), so they stay in step with
the source notebook.
"""

from autograder.authoring.catalogue import GRADER_FILE, Attack, Variant, cell, reference_cells

ANSWERS = reference_cells(__file__)


def edit(function: str, old: str, new: str, count: int = 1) -> str:
    """The reference answer for ``function`` with ``old`` replaced by ``new`` (which must occur exactly once)."""
    source = ANSWERS[function]
    assert source.count(old) == 1, f"{function}: {old!r} occurs {source.count(old)} times in the reference answer"
    return source.replace(old, new, count)


MUTANTS: list[Variant] = [
    # --- lenet5 -----------------------------------------------------------------------------
    Variant("lenet_max_pooling", "lenet5",
            ANSWERS["lenet5"].replace("AveragePooling2D((2, 2))", "MaxPooling2D((2, 2))"),
            "max pooling where LeNet-5 subsamples by averaging"),
    Variant("lenet_no_relu_on_convolutions", "lenet5",
            ANSWERS["lenet5"].replace('(5, 5), activation="relu")', "(5, 5))"),
            "the two convolutions have no activation"),
    # --- alexnet_cifar ------------------------------------------------------------------------
    Variant("alexnet_non_overlapping_pooling", "alexnet_cifar",
            ANSWERS["alexnet_cifar"].replace("MaxPooling2D((3, 3), strides=(2, 2))", "MaxPooling2D((2, 2))"),
            "2x2 pooling instead of AlexNet's overlapping 3x3 windows with stride 2"),
    Variant("alexnet_no_relu_dense_192", "alexnet_cifar",
            edit("alexnet_cifar", 'Dense(192, activation="relu")', "Dense(192)"), "the second dense layer has no ReLU"),
    # --- vgg_block ------------------------------------------------------------------------------
    Variant("vgg_block_pool_stride_1", "vgg_block",
            edit("vgg_block", "MaxPooling2D(pool_size=(2, 2), strides=(2, 2))", "MaxPooling2D(pool_size=(2, 2), strides=(1, 1))"),
            "the block's pooling has stride 1, so it doesn't halve the image"),
    Variant("vgg_block_valid_convolutions", "vgg_block",
            edit("vgg_block", 'padding="same", activation="relu"', 'padding="valid", activation="relu"'),
            "'valid' convolutions shrink the image by 2 each"),
    Variant("vgg_block_pool_after_every_conv", "vgg_block",
            edit("vgg_block", '        X = Conv2D(filters, kernel_size=(3, 3), padding="same", activation="relu")(X)\n    X = MaxPooling2D',
                 '        X = Conv2D(filters, kernel_size=(3, 3), padding="same", activation="relu")(X)\n        X = MaxPooling2D'),
            "the pooling is inside the loop: one after every convolution"),
    # --- VGG ------------------------------------------------------------------------------------------
    Variant("vgg_one_dropout", "VGG",
            edit("VGG", "    for _ in range(2):\n        X = Dense(fc_units, activation=\"relu\")(X)\n        X = Dropout(dropout)(X)\n",
                 "    X = Dense(fc_units, activation=\"relu\")(X)\n    X = Dense(fc_units, activation=\"relu\")(X)\n    X = Dropout(dropout)(X)\n"),
            "only one Dropout, after the second hidden dense layer"),
    Variant("vgg_ignores_fc_units", "VGG", edit("VGG", 'Dense(fc_units, activation="relu")', 'Dense(4096, activation="relu")'),
            "the hidden dense layers always have 4096 units"),
    Variant("vgg_blocks_not_chained", "VGG", edit("VGG", "X = vgg_block(X, num_convs, filters)", "X = vgg_block(X_input, num_convs, filters)"),
            "every block is applied to the input instead of the previous block's output"),
    # --- inception_module -------------------------------------------------------------------------
    Variant("inception_concatenate_wrong_axis", "inception_module",
            edit("inception_module", "Concatenate(axis=-1)", "Concatenate(axis=1)"), "concatenates along the height"),
    Variant("inception_pool_branch_without_projection", "inception_module",
            edit("inception_module", '    branch_pool = Conv2D(pool_proj, (1, 1), padding="same", activation="relu")(branch_pool)\n', ""),
            "the pooling branch passes all the input channels on, without its 1x1 projection"),
    Variant("inception_branches_out_of_order", "inception_module",
            edit("inception_module", "[branch1, branch3, branch5, branch_pool]", "[branch_pool, branch1, branch3, branch5]"),
            "the pooling branch comes first in the concatenation"),
    Variant("inception_no_relu_on_reductions", "inception_module",
            ANSWERS["inception_module"].replace('_reduce, (1, 1), padding="same", activation="relu")', '_reduce, (1, 1), padding="same")'),
            "the 1x1 reductions have no ReLU"),
    # --- dense_block ---------------------------------------------------------------------------------------
    Variant("dense_conv_before_bn", "dense_block",
            edit("dense_block", '''        Y = BatchNormalization()(X)
        Y = Activation("relu")(Y)
        Y = Conv2D(4 * growth_rate, (1, 1), use_bias=False)(Y)
        Y = BatchNormalization()(Y)
        Y = Activation("relu")(Y)
        Y = Conv2D(growth_rate, (3, 3), padding="same", use_bias=False)(Y)''', '''        Y = Conv2D(4 * growth_rate, (1, 1), use_bias=False)(X)
        Y = BatchNormalization()(Y)
        Y = Activation("relu")(Y)
        Y = Conv2D(growth_rate, (3, 3), padding="same", use_bias=False)(Y)
        Y = BatchNormalization()(Y)
        Y = Activation("relu")(Y)'''),
            "post-activation (conv -> BN -> ReLU) instead of DenseNet's BN -> ReLU -> conv"),
    Variant("dense_bottleneck_2k", "dense_block", edit("dense_block", "Conv2D(4 * growth_rate, (1, 1)", "Conv2D(2 * growth_rate, (1, 1)"),
            "the bottleneck has 2k filters instead of 4k"),
    Variant("dense_new_channels_first", "dense_block", edit("dense_block", "X = Concatenate()([X, Y])\n", "X = Concatenate()([Y, X])\n"),
            "concatenates the new channels before the old ones"),
    Variant("dense_convolutions_with_bias", "dense_block", ANSWERS["dense_block"].replace(", use_bias=False)", ")"),
            "the convolutions keep their biases"),
    # --- transition_layer --------------------------------------------------------------------------------
    Variant("transition_without_compression", "transition_layer",
            edit("transition_layer", "channels = int(compression * X.shape[-1])", "channels = X.shape[-1]"),
            "keeps every channel: no compression"),
    Variant("transition_max_pooling", "transition_layer",
            edit("transition_layer", "AveragePooling2D((2, 2), strides=(2, 2))", "MaxPooling2D((2, 2), strides=(2, 2))"),
            "max pooling instead of average pooling"),
    # --- DenseNet121 -------------------------------------------------------------------------------------
    Variant("densenet_169_blocks", "DenseNet121", edit("DenseNet121", "blocks = (6, 12, 24, 16)", "blocks = (6, 12, 32, 32)"),
            "DenseNet-169's block sizes"),
    Variant("densenet_stem_same_padding", "DenseNet121",
            edit("DenseNet121", '''    X = ZeroPadding2D((3, 3))(X_input)
    X = Conv2D(64, (7, 7), strides=(2, 2), use_bias=False)(X)''', '''    X = Conv2D(64, (7, 7), strides=(2, 2), padding="same", use_bias=False)(X_input)'''),
            "'same' padding instead of ZeroPadding2D(3) and a 'valid' 7x7 convolution"),
    Variant("densenet_no_final_bn", "DenseNet121",
            edit("DenseNet121", '''    X = BatchNormalization()(X)
    X = Activation("relu")(X)
    X = GlobalAveragePooling2D()(X)''', '''    X = GlobalAveragePooling2D()(X)'''),
            "no batch norm and ReLU before the global pooling"),
    # --- random_crop_flip ------------------------------------------------------------------------------
    Variant("crop_without_padding", "random_crop_flip",
            edit("random_crop_flip", "padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)))", "padded = images"),
            "crops the unpadded images"),
    Variant("flip_vertical", "random_crop_flip", edit("random_crop_flip", "crop = crop[:, ::-1, :]", "crop = crop[::-1, :, :]"),
            "flips upside down instead of left-right"),
    Variant("crop_offsets_exclusive", "random_crop_flip",
            edit("random_crop_flip", "        top, left = rng.integers(0, 2 * pad + 1, size=2)",
                 "        top, left = rng.integers(0, 2 * pad, size=2)"),
            "offsets from 0 to 2 * pad - 1: never the largest shift"),
    Variant("crop_flip_drawn_first", "random_crop_flip", cell('''
        def random_crop_flip(images, pad, rng):
            N, H, W, C = images.shape
            padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
            out = np.empty_like(images)
            for i in range(N):
                flip = rng.random() < 0.5
                top, left = rng.integers(0, 2 * pad + 1, size=2)
                crop = padded[i, top : top + H, left : left + W, :]
                out[i] = crop[:, ::-1, :] if flip else crop
            return out
    '''), "draws the flip before the offsets (not the contract's order)"),
    Variant("crop_writes_into_its_input", "random_crop_flip", edit("random_crop_flip", "out = np.empty_like(images)", "out = images"),
            "writes the crops into the input array (the padded copy keeps the values right)"),
    # --- step_decay --------------------------------------------------------------------------------------
    Variant("step_decay_off_by_one", "step_decay",
            edit("step_decay", "drop ** (step // steps_per_drop)", "drop ** ((step + 1) // steps_per_drop)"),
            "drops one step too early"),
    Variant("step_decay_rounds_up", "step_decay",
            edit("step_decay", "drop ** (step // steps_per_drop)", "drop ** math.ceil(step / steps_per_drop)"),
            "ceil instead of floor: the first drop already at step 1"),
    # --- cosine_decay ------------------------------------------------------------------------------------
    Variant("cosine_without_warmup", "cosine_decay", cell('''
        def cosine_decay(step, total_steps, initial_lr, warmup_steps=0):
            progress = min(1.0, step / total_steps)
            return float(0.5 * initial_lr * (1.0 + math.cos(math.pi * progress)))
    '''), "ignores warmup_steps"),
    Variant("cosine_warmup_from_first_step", "cosine_decay",
            edit("cosine_decay", "return float(initial_lr * step / warmup_steps)", "return float(initial_lr * (step + 1) / warmup_steps)"),
            "the warm-up starts at lr0 / warmup_steps instead of 0"),
    Variant("cosine_progress_not_shifted", "cosine_decay",
            edit("cosine_decay", "progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))",
                 "progress = min(1.0, step / total_steps)"),
            "the cosine ignores the warm-up: it starts below lr0 at the end of the warm-up"),
    Variant("cosine_not_clipped", "cosine_decay",
            edit("cosine_decay", "progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))",
                 "progress = (step - warmup_steps) / (total_steps - warmup_steps)"),
            "past total_steps the rate rises again"),
    # --- l2_penalty --------------------------------------------------------------------------------------
    Variant("l2_without_lambda", "l2_penalty", edit("l2_penalty", "return lam * penalty", "return penalty"), "forgets the lambda"),
    Variant("l2_norm_not_squared", "l2_penalty",
            edit("l2_penalty", "penalty = penalty + ops.sum(ops.square(p))", "penalty = penalty + ops.sqrt(ops.sum(ops.square(p)))"),
            "sums the norms instead of the squared norms"),
    # --- train_step --------------------------------------------------------------------------------------
    Variant("train_step_no_update", "train_step",
            edit("train_step", "    optimizer.apply_gradients(zip(grads, model.trainable_weights, strict=True))\n", ""),
            "computes the gradients but never applies them"),
    Variant("train_step_gradient_ascent", "train_step",
            edit("train_step", "optimizer.apply_gradients(zip(grads, model.trainable_weights, strict=True))",
                 "optimizer.apply_gradients(zip([-g for g in grads], model.trainable_weights, strict=True))"),
            "the wrong sign: climbs the loss"),
    Variant("train_step_penalises_every_weight", "train_step",
            edit("train_step", 'kernels = [w for w in model.trainable_weights if w.name == "kernel"]', "kernels = model.trainable_weights"),
            "the penalty also decays the biases and batch norm's gamma and beta"),
    Variant("train_step_inference_mode", "train_step",
            edit("train_step", "probabilities = model(x, training=True)", "probabilities = model(x)"),
            "calls the model in inference mode: batch norm on its running averages, which never update"),
    Variant("train_step_returns_cross_entropy_only", "train_step", cell('''
        def train_step(model, optimizer, x, y, lam):
            with tf.GradientTape() as tape:
                probabilities = model(x, training=True)
                cross_entropy = ops.mean(keras.losses.sparse_categorical_crossentropy(y, probabilities))
                kernels = [w for w in model.trainable_weights if w.name == "kernel"]
                loss = cross_entropy + l2_penalty(kernels, lam)
            grads = tape.gradient(loss, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights, strict=True))
            return float(cross_entropy)
    '''), "returns the cross-entropy without the penalty"),
]  # fmt: skip

CORRECT: list[Variant] = [
    Variant("lenet_sequential", "lenet5", cell('''
        def lenet5(input_shape=(32, 32, 1), classes=10):
            return keras.Sequential([
                keras.Input(shape=input_shape),
                layers.Conv2D(6, 5),
                layers.ReLU(),
                layers.AvgPool2D(pool_size=2, strides=2, padding="valid"),
                layers.Conv2D(16, 5, activation="relu"),
                layers.AvgPool2D(2),
                layers.Flatten(),
                layers.Dense(120, activation="relu"),
                layers.Dense(84),
                layers.Activation("relu"),
                layers.Dense(classes),
                layers.Softmax(),
            ])
    '''), "keras.Sequential, separate ReLU and Softmax layers, AvgPool2D"),
    Variant("alexnet_from_a_table", "alexnet_cifar", cell('''
        def alexnet_cifar(input_shape=(32, 32, 3), classes=10):
            inputs = keras.Input(input_shape)
            x = inputs
            for padding in ("valid", "same"):
                x = layers.Conv2D(filters=64, kernel_size=5, strides=1, padding=padding)(x)
                x = ops.relu(x)
                x = layers.MaxPool2D(pool_size=3, strides=2)(x)
            x = layers.Flatten()(x)
            for units in (384, 192):
                x = layers.Dense(units, activation="relu")(x)
            return keras.Model(inputs, layers.Dense(classes, activation="softmax")(x))
    '''), "a loop over the two convolutions, ops.relu, integer kernel sizes"),
    Variant("vgg_block_from_a_list", "vgg_block", cell('''
        def vgg_block(X, num_convs, filters):
            convs = [layers.Conv2D(filters, 3, padding="same") for _ in range(num_convs)]
            for conv in convs:
                X = layers.ReLU()(conv(X))
            return layers.MaxPool2D()(X)
    '''), "layers created first, ReLU layers, MaxPool2D's defaults"),
    Variant("vgg_with_a_helper", "VGG", cell('''
        def dense_dropout(X, units, rate):
            X = layers.Dense(units)(X)
            X = layers.Activation("relu")(X)
            return layers.Dropout(rate=rate)(X)

        def VGG(conv_arch, input_shape=(224, 224, 3), classes=1000, fc_units=4096, dropout=0.5):
            inputs = keras.Input(shape=input_shape)
            X = inputs
            for block in conv_arch:
                X = vgg_block(X, *block)
            X = layers.Flatten()(X)
            X = dense_dropout(X, fc_units, dropout)
            X = dense_dropout(X, fc_units, dropout)
            outputs = layers.Dense(classes, activation="softmax")(X)
            return keras.Model(inputs=inputs, outputs=outputs)
    '''), "a helper for the hidden layers, blocks called with *block, Activation layers"),
    Variant("inception_with_concatenate_function", "inception_module", cell('''
        def conv_relu(X, filters, size):
            return layers.ReLU()(layers.Conv2D(filters, size, padding="same" if size > 1 else "valid")(X))

        def inception_module(X, f1, f3_reduce, f3, f5_reduce, f5, pool_proj):
            pooled = layers.MaxPool2D(pool_size=3, strides=1, padding="same")(X)
            branches = [
                conv_relu(X, f1, 1),
                conv_relu(conv_relu(X, f3_reduce, 1), f3, 3),
                conv_relu(conv_relu(X, f5_reduce, 1), f5, 5),
                conv_relu(pooled, pool_proj, 1),
            ]
            return layers.concatenate(branches, axis=3)
    '''), "a helper, 'valid' 1x1 convolutions, the pooling built first, layers.concatenate with axis=3"),
    Variant("dense_block_with_helper", "dense_block", cell('''
        def bn_relu_conv(X, filters, size):
            X = layers.BatchNormalization(axis=-1)(X)
            X = layers.ReLU()(X)
            return layers.Conv2D(filters, size, padding="same", use_bias=False)(X)

        def dense_block(X, num_layers, growth_rate):
            features = [X]
            for _ in range(num_layers):
                inputs = features[0] if len(features) == 1 else layers.concatenate(features)
                features.append(bn_relu_conv(bn_relu_conv(inputs, 4 * growth_rate, 1), growth_rate, 3))
            return layers.concatenate(features) if len(features) > 1 else X
    '''), "a list of all feature maps, concatenated anew for each layer; 'same' 1x1 convolutions"),
    Variant("transition_with_floor", "transition_layer", cell('''
        def transition_layer(X, compression=0.5):
            n_C = X.shape[3]
            X = layers.ReLU()(layers.BatchNormalization()(X))
            X = layers.Conv2D(math.floor(n_C * compression), 1, use_bias=False)(X)
            return layers.AvgPool2D(pool_size=2)(X)
    '''), "math.floor, X.shape[3], AvgPool2D's default strides"),
    Variant("densenet_explicit_stages", "DenseNet121", cell('''
        def DenseNet121(input_shape=(224, 224, 3), classes=1000):
            inputs = keras.Input(input_shape)
            X = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(inputs)
            X = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1")(X)
            X = layers.BatchNormalization(axis=3, name="bn1")(X)
            X = layers.ReLU()(X)
            X = layers.ZeroPadding2D(padding=1)(X)
            X = layers.MaxPool2D(3, strides=2)(X)
            X = transition_layer(dense_block(X, 6, 32))
            X = transition_layer(dense_block(X, 12, 32))
            X = transition_layer(dense_block(X, 24, 32))
            X = dense_block(X, 16, 32)
            X = layers.ReLU()(layers.BatchNormalization(axis=3)(X))
            X = layers.GlobalAvgPool2D()(X)
            return keras.Model(inputs, layers.Dense(classes, activation="softmax")(X), name="densenet121")
    '''), "the four stages written out, default compression, layer names, GlobalAvgPool2D"),
    Variant("crop_with_zeros_and_flip", "random_crop_flip", cell('''
        def random_crop_flip(images, pad, rng):
            n, h, w, c = images.shape
            padded = np.zeros((n, h + 2 * pad, w + 2 * pad, c), dtype=images.dtype)
            padded[:, pad : pad + h, pad : pad + w] = images
            result = np.zeros_like(images)
            for i, image in enumerate(padded):
                dy, dx = rng.integers(2 * pad + 1, size=2)
                window = image[dy : dy + h, dx : dx + w]
                result[i] = np.flip(window, axis=1) if rng.random() < 0.5 else window
            return result
    '''), "padding by hand, np.flip, rng.integers(high, size=2)"),
    Variant("step_decay_by_repeated_multiplication", "step_decay", cell('''
        def step_decay(step, initial_lr, drop, steps_per_drop):
            drops = math.floor(step / steps_per_drop)
            lr = initial_lr
            for _ in range(drops):
                lr *= drop
            return float(lr)
    '''), "math.floor and repeated multiplication"),
    Variant("cosine_with_numpy", "cosine_decay", cell('''
        def cosine_decay(step, total_steps, initial_lr, warmup_steps=0):
            if warmup_steps > 0 and step < warmup_steps:
                return float(step) / warmup_steps * initial_lr
            t = np.clip((step - warmup_steps) / (total_steps - warmup_steps), 0.0, 1.0)
            return float(initial_lr * (np.cos(np.pi * t) + 1) / 2)
    '''), "NumPy's cos and clip"),
    Variant("l2_with_add_n", "l2_penalty", cell('''
        def l2_penalty(weights, lam):
            if not weights:
                return 0.0
            return lam * tf.add_n([tf.reduce_sum(tf.square(tf.cast(w, tf.float32))) for w in weights])
    '''), "TensorFlow ops and tf.add_n, 0.0 for an empty list"),
    Variant("train_step_with_loss_object", "train_step", cell('''
        def train_step(model, optimizer, x, y, lam):
            loss_fn = keras.losses.SparseCategoricalCrossentropy()
            kernels = [w for w in model.trainable_weights if len(w.shape) > 1]
            with tf.GradientTape() as tape:
                data_loss = loss_fn(y, model(x, training=True))
                total = data_loss + l2_penalty(kernels, lam)
            variables = model.trainable_variables
            optimizer.apply(tape.gradient(total, variables), variables)
            return float(total.numpy())
    '''), "a loss object, kernels chosen by their rank, optimizer.apply, trainable_variables"),
]  # fmt: skip

# A model that computes Flatten -> Dense (no softmax: it earns nothing honestly) but describes
# itself as another: its layers and count_params() (and, with store=True, get_weights() and
# set_weights()) are the shown model's. Prepended to the attacks that use it.
SHOWN_AS = cell("""
    class _Box:
        pass


    class ShownAs(keras.Model):
        def __init__(self, shown, classes, store=False):
            super().__init__()
            self._box = _Box()  # not tracked by Keras: the shown model's weights are not this model's
            self._box.model, self._box.store = shown, store
            self.flat, self.dense = layers.Flatten(), layers.Dense(classes)

        def call(self, x):
            return self.dense(self.flat(x))

        @property
        def layers(self):
            return self._box.model.layers

        def count_params(self):
            return self._box.model.count_params()

        def get_weights(self):
            return self._box.model.get_weights() if self._box.store else super().get_weights()

        def set_weights(self, weights):
            return self._box.model.set_weights(weights) if self._box.store else super().set_weights(weights)


    def shown_as(shown, input_shape, classes, store=False):
        model = ShownAs(shown, classes, store)
        model(np.zeros((1, *input_shape), dtype="float32"))
        return model
""")
DESCRIPTION_LIE = ("does not match what it computes",)

ATTACKS: list[Attack] = [
    Attack(
        "reads_hidden_tests",
        "random_crop_flip",
        cell(f"""
            def random_crop_flip(images, pad, rng):
                # try to read a hidden grader and smuggle it out in the error message
                with open("{GRADER_FILE}") as f:
                    raise RuntimeError(f.read())
        """),
        ("No such file or directory", "Permission denied"),
    ),
    Attack(
        "asks_the_grader_for_l2_penalty",
        "train_step",
        cell("""
            def train_step(model, optimizer, x, y, lam):
                # find the sandbox's worker and ask the grader itself for l2_penalty, which train_step declares
                import gc
                worker = next(o for o in gc.get_objects() if type(o).__name__ == "Worker" and hasattr(o, "callback"))
                kernels = [w for w in model.trainable_weights if w.name == "kernel"]
                with tf.GradientTape() as tape:
                    loss = ops.mean(keras.losses.sparse_categorical_crossentropy(y, model(x, training=True)))
                    loss = loss + worker.callback("l2_penalty")([w.numpy() for w in kernels], lam)
                grads = tape.gradient(loss, model.trainable_weights)
                optimizer.apply_gradients(zip(grads, model.trainable_weights, strict=True))
                return float(loss)
        """),
        ("your code asked the grader for `l2_penalty`, which is not available while `train_step` is being graded",),
    ),
    Attack(
        "l2_lies_to_the_probe_and_train_step_returns_zero",
        "train_step",
        cell("""
            def l2_penalty(weights, lam):
                # honest, except for a list that starts with a (3, 3, 2, 3) kernel: the shape of the
                # kernels the grader's train_step checks once probed l2_penalty with, to excuse train_step
                penalty = 0.0
                for p in weights:
                    penalty = penalty + ops.sum(ops.square(p))
                if weights and tuple(weights[0].shape) == (3, 3, 2, 3):
                    return 123.0 + 0.0 * penalty
                return lam * penalty


            def train_step(model, optimizer, x, y, lam):
                return 0.0
        """),
        ("the loss train_step returns",),
        spares_others=False,  # the lie now costs l2_penalty its own test on those kernels
    ),
    Attack(
        "l2_lies_only_inside_train_step",
        "train_step",
        cell("""
            import sys as _sys


            def l2_penalty(weights, lam):
                # honest in l2_penalty's own tests; says "all is well" (0) when train_step calls it
                penalty = 0.0
                for p in weights:
                    penalty = penalty + ops.sum(ops.square(p))
                if _sys._getframe(1).f_code.co_name == "train_step":
                    return 0.0 * penalty
                return lam * penalty


            def train_step(model, optimizer, x, y, lam):
                l2_penalty(model.trainable_weights, lam)
                return 0.0
        """),
        ("the loss train_step returns",),
    ),
    Attack(
        "l2_and_train_step_both_return_zero",
        "train_step",
        cell("""
            def l2_penalty(weights, lam):  # wrong everywhere: once enough to excuse train_step entirely
                return 0.0


            def train_step(model, optimizer, x, y, lam):
                return 0.0
        """),
        ("the loss train_step returns",),
        spares_others=False,  # l2_penalty is wrong: it loses its own points
    ),
    Attack(
        "lenet5_describes_itself_as_lenet5",
        "lenet5",
        SHOWN_AS
        + cell("""
            def lenet5(input_shape=(32, 32, 1), classes=10):
                return shown_as(REFERENCE_LENET5(input_shape, classes), input_shape, classes)
        """),
        DESCRIPTION_LIE,
    ),
    Attack(
        "lenet5_keeps_the_graders_weights_unused",
        "lenet5",
        SHOWN_AS
        + cell("""
            def lenet5(input_shape=(32, 32, 1), classes=10):
                return shown_as(REFERENCE_LENET5(input_shape, classes), input_shape, classes, store=True)
        """),
        ("are not the ones it computes with",),
    ),
    Attack(
        "alexnet_describes_itself_as_alexnet",
        "alexnet_cifar",
        SHOWN_AS
        + cell("""
            def alexnet_cifar(input_shape=(32, 32, 3), classes=10):
                return shown_as(REFERENCE_ALEXNET_CIFAR(input_shape, classes), input_shape, classes)
        """),
        DESCRIPTION_LIE,
    ),
    Attack(
        "vgg_describes_a_classifier_with_dropout",
        "VGG",
        SHOWN_AS
        + cell("""
            def VGG(conv_arch, input_shape=(224, 224, 3), classes=1000, fc_units=4096, dropout=0.5):
                X_input = Input(input_shape)  # what VGG looks like with the grader's stand-in blocks
                X = Flatten()(X_input)
                for _ in range(2):
                    X = Dropout(dropout)(Dense(fc_units, activation="relu")(X))
                shown = Model(X_input, Dense(classes, activation="softmax")(X))
                return shown_as(shown, input_shape, classes)
        """),
        DESCRIPTION_LIE,
    ),
    Attack(
        "densenet_describes_its_stem_and_head",
        "DenseNet121",
        SHOWN_AS
        + cell("""
            def DenseNet121(input_shape=(224, 224, 3), classes=1000):
                X_input = Input(input_shape)  # what DenseNet121 looks like with the grader's stand-in blocks
                X = ZeroPadding2D((3, 3))(X_input)
                X = Conv2D(64, (7, 7), strides=(2, 2), use_bias=False)(X)
                X = Activation("relu")(BatchNormalization()(X))
                X = MaxPooling2D((3, 3), strides=(2, 2))(ZeroPadding2D((1, 1))(X))
                X = GlobalAveragePooling2D()(Activation("relu")(BatchNormalization()(X)))
                shown = Model(X_input, Dense(classes, activation="softmax")(X))
                return shown_as(shown, input_shape, classes)
        """),
        DESCRIPTION_LIE,
    ),
]

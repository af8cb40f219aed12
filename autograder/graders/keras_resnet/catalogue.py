"""The catalogue of keras_resnet: answers the fidelity suite grades (autograder/authoring/catalogue.py).

MUTANTS are realistic wrong answers, each wrong in exactly the part it names: graded
alone, it must lose points on that part and keep full marks elsewhere (the graders
answer inner calls with stand-ins, see conftest.py).
CORRECT are answers written differently from the reference; each must earn full marks.
ATTACKS are a perfect student plus one attack in a TensorFlow part, which scores 0. Some
redefine another part in the same cell (stub blocks): those may cost that part's points
too (``spares_others=False``), never gain any.

Most variants are the reference cell with one line changed (``edit``), so they stay
in step with the source notebook.
"""

from autograder.authoring.catalogue import SURVIVOR_TOKEN, Attack, Variant, cell, reference_cells

ANSWERS = reference_cells(__file__)


MUTANTS: list[Variant] = [
    # --- warm-up --------------------------------------------------------------------------
    Variant("conv_same_floor", "conv_output_shape",
            ANSWERS.edit("conv_output_shape", "n_H = -(-n_H_prev // s_H)\n        n_W = -(-n_W_prev // s_W)",
                 "n_H = n_H_prev // s_H\n        n_W = n_W_prev // s_W"), "'same' rounds n / s down instead of up"),
    Variant("conv_same_valid_swapped", "conv_output_shape",
            ANSWERS.edit("conv_output_shape", 'if padding == "valid":', 'if padding == "same":').replace('elif padding == "same":', 'elif padding == "valid":'),
            "uses the 'valid' formula for 'same' and the other way round"),
    Variant("conv_keeps_input_channels", "conv_output_shape",
            ANSWERS.edit("conv_output_shape", "return (batch, n_H, n_W, filters)", "return (batch, n_H, n_W, n_C_prev)"),
            "returns the input's channels instead of `filters`"),
    Variant("pool_default_stride_1", "pool_output_shape",
            ANSWERS.edit("pool_output_shape", "s_H, s_W = f_H, f_W", "s_H, s_W = 1, 1"), "strides=None taken as 1, not pool_size"),
    Variant("pool_valid_ceil", "pool_output_shape",
            ANSWERS.edit("pool_output_shape", "n_H = (n_H_prev - f_H) // s_H + 1\n        n_W = (n_W_prev - f_W) // s_W + 1",
                 "n_H = -(-(n_H_prev - f_H) // s_H) + 1\n        n_W = -(-(n_W_prev - f_W) // s_W) + 1"),
            "'valid' rounds up instead of down"),
    # --- identity_block -------------------------------------------------------------------
    Variant("id_relu_before_add", "identity_block",
            ANSWERS.edit("identity_block", "    X = Add()([X, X_shortcut])\n    X = Activation(activation=\"relu\")(X)",
                 "    X = Activation(activation=\"relu\")(X)\n    X = Add()([X, X_shortcut])"), "ReLU before the addition, none after"),
    Variant("id_bn_after_add", "identity_block",
            ANSWERS.edit("identity_block", "    X = BatchNormalization(axis=3)(X, training=training)\n\n    # add the shortcut, then the ReLU\n    X = Add()([X, X_shortcut])",
                 "\n    # add the shortcut, then the ReLU\n    X = Add()([X, X_shortcut])\n    X = BatchNormalization(axis=3)(X, training=training)"),
            "the third batch norm after the addition"),
    Variant("id_training_ignored", "identity_block",
            ANSWERS["identity_block"].replace("(X, training=training)", "(X)"), "batch norm never gets `training`"),
    Variant("id_filters_swapped", "identity_block",
            ANSWERS.edit("identity_block", "F1, F2, F3 = filters", "F2, F1, F3 = filters"), "F1 and F2 swapped"),
    Variant("id_valid_middle_conv", "identity_block",
            ANSWERS.edit("identity_block", 'kernel_size=f, strides=(1, 1), padding="same"', 'kernel_size=f, strides=(1, 1), padding="valid"'),
            "'valid' where the f x f convolution needs 'same'"),
    Variant("id_no_final_relu", "identity_block",
            ANSWERS.edit("identity_block", "    X = Add()([X, X_shortcut])\n    X = Activation(activation=\"relu\")(X)", "    X = Add()([X, X_shortcut])"),
            "missing final ReLU"),
    # --- convolutional_block --------------------------------------------------------------
    Variant("cb_shortcut_without_bn", "convolutional_block",
            ANSWERS.edit("convolutional_block", "    X_shortcut = BatchNormalization(axis=3)(X_shortcut, training=training)\n", ""),
            "no batch norm on the shortcut"),
    Variant("cb_stride_on_middle_conv", "convolutional_block",
            ANSWERS.edit("convolutional_block", 'X = Conv2D(filters=F1, kernel_size=1, strides=(s, s)', 'X = Conv2D(filters=F1, kernel_size=1, strides=(1, 1)')
            .replace('X = Conv2D(filters=F2, kernel_size=f, strides=(1, 1)', 'X = Conv2D(filters=F2, kernel_size=f, strides=(s, s)'),
            "stride on the f x f convolution instead of the first 1x1"),
    Variant("cb_relu_before_add", "convolutional_block",
            ANSWERS.edit("convolutional_block", "    X = Add()([X, X_shortcut])\n    X = Activation(activation=\"relu\")(X)",
                 "    X = Activation(activation=\"relu\")(X)\n    X = Add()([X, X_shortcut])"), "ReLU before the addition"),
    Variant("cb_training_false_on_shortcut", "convolutional_block",
            ANSWERS.edit("convolutional_block", "(X_shortcut, training=training)", "(X_shortcut, training=False)"),
            "the shortcut's batch norm always in inference mode"),
    # --- ResNet50 ---------------------------------------------------------------------------
    Variant("r50_stem_same_padding", "ResNet50",
            ANSWERS.edit("ResNet50", "Conv2D(64, (7, 7), strides=(2, 2), kernel_initializer", 'Conv2D(64, (7, 7), strides=(2, 2), padding="same", kernel_initializer'),
            "'same' where the stem convolution is 'valid'"),
    Variant("r50_avgpool_3", "ResNet50", ANSWERS.edit("ResNet50", "AveragePooling2D((2, 2))", "AveragePooling2D((3, 3), padding=\"same\")"),
            "wrong pooling size in the head"),
    Variant("r50_no_softmax", "ResNet50", ANSWERS.edit("ResNet50", 'Dense(classes, activation="softmax",', "Dense(classes,"), "Dense without softmax"),
    Variant("r50_stage4_four_identity_blocks", "ResNet50",
            ANSWERS.edit("ResNet50", "    X = identity_block(X, 3, [256, 256, 1024])\n", "", first=True), "4 identity blocks in stage 4 instead of 5"),
    Variant("r50_stage3_stride_1", "ResNet50", ANSWERS.edit("ResNet50", "filters=[128, 128, 512], s=2", "filters=[128, 128, 512], s=1"),
            "stage 3 doesn't downsample"),
    # --- BasicBlock ---------------------------------------------------------------------------
    Variant("bb_no_downsample", "BasicBlock",
            ANSWERS.edit("BasicBlock", "residual = inputs if self.downsample is None else self.downsample(inputs, training=training)", "residual = inputs"),
            "no downsample on the shortcut when stride != 1"),
    Variant("bb_relu_before_add", "BasicBlock", ANSWERS.edit("BasicBlock", "return ops.relu(x + residual)", "return ops.relu(x) + residual"),
            "ReLU before the addition"),
    Variant("bb_stride_on_second_conv", "BasicBlock",
            ANSWERS.edit("BasicBlock", "self.conv1 = Conv2D(filter_num, (3, 3), strides=stride", "self.conv1 = Conv2D(filter_num, (3, 3), strides=1")
            .replace("self.conv2 = Conv2D(filter_num, (3, 3), strides=1", "self.conv2 = Conv2D(filter_num, (3, 3), strides=stride"),
            "stride on the second 3x3 convolution"),
    Variant("bb_bn_always_inference", "BasicBlock", ANSWERS.edit("BasicBlock", "x = self.bn1(x, training=training)", "x = self.bn1(x, training=False)"),
            "first batch norm forced into inference mode"),
    # --- ResNet --------------------------------------------------------------------------------
    Variant("resnet_no_stem_pool", "ResNet", ANSWERS.edit("ResNet", '                MaxPool2D((3, 3), strides=2, padding="same"),\n', ""),
            "no max pooling in the stem"),
    Variant("resnet_all_strides_1", "ResNet", ANSWERS.edit("ResNet", "(1, 2, 2, 2)", "(1, 1, 1, 1)"), "no stage downsamples"),
    Variant("resnet_softmax", "ResNet", ANSWERS.edit("ResNet", "self.fc = Dense(num_classes)", 'self.fc = Dense(num_classes, activation="softmax")'),
            "softmax on the output (should be logits)"),
    # --- resnet18 / resnet34 --------------------------------------------------------------------
    Variant("resnet34_wrong_dims", "resnet18", ANSWERS.edit("resnet18", "ResNet([3, 4, 6, 3]", "ResNet([3, 4, 23, 3]"), "resnet34 with ResNet101's stage 3"),
    Variant("resnet18_ignores_num_classes", "resnet18", ANSWERS.edit("resnet18", "ResNet([2, 2, 2, 2], num_classes=num_classes)", "ResNet([2, 2, 2, 2])"),
            "num_classes not passed on"),
]  # fmt: skip

CORRECT: list[Variant] = [
    Variant("shapes_with_math_ceil", "conv_output_shape", cell('''
        import math

        def conv_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid"):
            batch, n_H_prev, n_W_prev, n_C_prev = input_shape
            f = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
            s = (strides, strides) if isinstance(strides, int) else tuple(strides)
            if padding == "same":
                sizes = [math.ceil(n / st) for n, st in zip((n_H_prev, n_W_prev), s)]
            else:
                sizes = [math.floor((n - k) / st) + 1 for n, k, st in zip((n_H_prev, n_W_prev), f, s)]
            return (batch, *sizes, filters)
    '''), "math.ceil / math.floor and a loop over the two axes"),
    Variant("identity_with_helper_and_plus", "identity_block", cell('''
        def conv_bn(X, filters, size, padding, training, initializer):
            X = Conv2D(filters, size, padding=padding, kernel_initializer=initializer(seed=0))(X)
            return BatchNormalization(axis=-1)(X, training=training)

        def identity_block(X, f, filters, training=True, initializer=random_uniform):
            F1, F2, F3 = filters
            shortcut = X
            X = layers.ReLU()(conv_bn(X, F1, 1, "valid", training, initializer))
            X = layers.ReLU()(conv_bn(X, F2, f, "same", training, initializer))
            X = conv_bn(X, F3, 1, "valid", training, initializer)
            return layers.ReLU()(shortcut + X)
    '''), "a helper function, axis=-1, the + operator, ReLU layers"),
    Variant("conv_block_shortcut_first", "convolutional_block", cell('''
        def convolutional_block(X, f, filters, s=2, training=True, initializer=glorot_uniform):
            F1, F2, F3 = filters
            shortcut = Conv2D(F3, (1, 1), strides=s, name=None, kernel_initializer=initializer(seed=0))(X)
            shortcut = BatchNormalization(axis=3)(shortcut, training=training)
            for i, (filters_i, size) in enumerate([(F1, 1), (F2, f), (F3, 1)]):
                X = Conv2D(filters_i, size, strides=s if i == 0 else 1, padding="same" if size == f and i == 1 else "valid",
                           kernel_initializer=initializer(seed=0))(X)
                X = BatchNormalization(axis=3)(X, training=training)
                if i < 2:
                    X = Activation("relu")(X)
            return Activation("relu")(Add()([shortcut, X]))
    '''), "shortcut built first, operands added in the other order, a loop"),
    Variant("resnet50_stage_table", "ResNet50", cell('''
        def ResNet50(input_shape=(64, 64, 3), classes=6):
            X_input = Input(input_shape)
            X = ZeroPadding2D((3, 3))(X_input)
            X = Conv2D(64, (7, 7), strides=(2, 2), kernel_initializer=glorot_uniform(seed=0), name="conv1")(X)
            X = BatchNormalization(axis=3, name="bn_conv1")(X)
            X = Activation("relu")(X)
            X = MaxPooling2D((3, 3), strides=(2, 2))(X)
            for filters, s, identities in [([64, 64, 256], 1, 2), ([128, 128, 512], 2, 3),
                                           ([256, 256, 1024], 2, 5), ([512, 512, 2048], 2, 2)]:
                X = convolutional_block(X, 3, filters, s=s)
                for _ in range(identities):
                    X = identity_block(X, f=3, filters=filters)
            X = AveragePooling2D(pool_size=(2, 2), name="avg_pool")(X)
            X = Flatten()(X)
            X = Dense(classes, activation="softmax", kernel_initializer=glorot_uniform(seed=0))(X)
            return Model(inputs=X_input, outputs=X, name="ResNet50")
    '''), "a table of stages and loops, keyword arguments, layer names"),
    Variant("basic_block_without_training_args", "BasicBlock", cell('''
        class BasicBlock(layers.Layer):
            def __init__(self, filter_num, stride=1, **kwargs):
                super().__init__(**kwargs)
                self.conv1 = Conv2D(filter_num, 3, strides=stride, padding="same")
                self.bn1 = BatchNormalization()
                self.conv2 = Conv2D(filter_num, 3, padding="same")
                self.bn2 = BatchNormalization()
                self.stride = stride
                if stride != 1:
                    self.down_conv = Conv2D(filter_num, 1, strides=stride)
                    self.down_bn = BatchNormalization()
                self.add = layers.Add()

            def call(self, inputs):
                residual = self.down_bn(self.down_conv(inputs)) if self.stride != 1 else inputs
                x = ops.relu(self.bn1(self.conv1(inputs)))
                x = self.bn2(self.conv2(x))
                return ops.relu(self.add([residual, x]))
    '''), "no training argument (Keras passes it down), downsample as two attributes, an Add layer"),
    Variant("resnet_explicit_stages", "ResNet", cell('''
        def make_stage(filter_num, blocks, stride):
            stage = keras.Sequential()
            stage.add(BasicBlock(filter_num, stride=stride))
            for _ in range(1, blocks):
                stage.add(BasicBlock(filter_num, stride=1))
            return stage

        class ResNet(keras.Model):
            def __init__(self, layer_dims, num_classes=100, **kwargs):
                super().__init__(**kwargs)
                self.conv1 = Conv2D(64, (3, 3), strides=(1, 1), padding="same")
                self.bn1 = BatchNormalization()
                self.pool1 = MaxPooling2D(pool_size=(3, 3), strides=2, padding="same")
                self.layer1 = make_stage(64, layer_dims[0], 1)
                self.layer2 = make_stage(128, layer_dims[1], 2)
                self.layer3 = make_stage(256, layer_dims[2], 2)
                self.layer4 = make_stage(512, layer_dims[3], 2)
                self.gap = GlobalAveragePooling2D()
                self.fc = Dense(num_classes)

            def call(self, inputs, training=None):
                x = self.pool1(ops.relu(self.bn1(self.conv1(inputs), training=training)))
                for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
                    x = stage(x, training=training)
                return self.fc(self.gap(x))
    '''), "a helper function outside the class, explicit attributes, ops.relu"),
]  # fmt: skip


# Sent to the grader again and again as a block's argument: the grader keeps a bounded summary
# of each recorded argument (kit/inner_calls.py), never the value, so its memory stays small.
# (3 MB: under the wire's cap on one message; 100 calls per build would have kept 300 MB, and
# expanded to gigabytes when compared.)
HUGE_ARGUMENT_CALLS = 100

ATTACKS: list[Attack] = [
    Attack(
        "huge_tensor",
        "identity_block",
        cell("""
            def identity_block(X, f, filters, training=True, initializer=random_uniform):
                hog = ops.ones((60000, 60000, 4))  # 57 GB of float32, far over the 2 GiB limit
                return hog[: X.shape[0]]
        """),
        ("MemoryError", "ResourceExhausted", "crashed", "bad_alloc", "OOM", "memory"),
    ),
    Attack(
        "endless_loop",
        "convolutional_block",
        cell("""
            def convolutional_block(X, f, filters, s=2, training=True, initializer=glorot_uniform):
                while True:
                    X = ops.add(X, 0.0)
        """),
        ("did not finish within", "ran out of time"),
        # its time-outs draw on the submission's budget: on a busy machine the rest of the
        # notebook may run out of it too (docs/sandbox.md, "A time budget per submission")
        spares_others=False,
    ),
    Attack(
        "child_process",
        "BasicBlock",
        cell(f"""
            class BasicBlock(layers.Layer):
                def __init__(self, filter_num, stride=1, **kwargs):
                    super().__init__(**kwargs)
                    import subprocess, sys
                    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "{SURVIVOR_TOKEN}"], start_new_session=True)
                    raise RuntimeError("spawned a child")
        """),
        ("raised RuntimeError",),
    ),
    Attack(
        "resnet50_flatten_dense_with_stub_blocks",
        "ResNet50",
        cell("""
            def identity_block(X, f, filters, training=True, initializer=random_uniform):
                raise NotImplementedError


            def convolutional_block(X, f, filters, s=2, training=True, initializer=glorot_uniform):
                raise NotImplementedError


            def ResNet50(input_shape=(64, 64, 3), classes=6):
                # the blocks can't be built, so a whole-model check once excused any ResNet50
                X_input = Input(input_shape)
                return Model(X_input, Dense(classes, activation="softmax")(Flatten()(X_input)))
        """),
        ("never calls convolutional_block or identity_block",),
        spares_others=False,  # the stub blocks lose their own points
    ),
    Attack(
        "resnet50_describes_itself_as_resnet50",
        "ResNet50",
        cell("""
            class _Box:
                pass


            class ShownAs(keras.Model):
                # computes Flatten -> Dense, but its layers and count_params() are the shown model's
                def __init__(self, shown, classes):
                    super().__init__()
                    self._box = _Box()
                    self._box.model = shown
                    self.flat, self.dense = Flatten(), Dense(classes, activation="softmax")

                def call(self, x):
                    return self.dense(self.flat(x))

                @property
                def layers(self):
                    return self._box.model.layers

                def count_params(self):
                    return self._box.model.count_params()


            def ResNet50(input_shape=(64, 64, 3), classes=6):
                X_input = Input(input_shape)  # what ResNet50 looks like with the grader's stand-in blocks
                X = Conv2D(64, (7, 7), strides=(2, 2))(ZeroPadding2D((3, 3))(X_input))
                X = MaxPooling2D((3, 3), strides=(2, 2))(Activation("relu")(BatchNormalization(axis=3)(X)))
                X = Dense(classes, activation="softmax")(Flatten()(AveragePooling2D((2, 2))(X)))
                model = ShownAs(Model(X_input, X), classes)
                model(np.zeros((1, *input_shape), dtype="float32"))
                return model
        """),
        ("does not match what it computes",),
    ),
    Attack(
        "huge_arguments_to_the_grader",
        "ResNet50",
        cell(f"""
            def ResNet50(input_shape=(64, 64, 3), classes=6):
                X_input = Input(input_shape)
                huge = "x" * 3_000_000
                for _ in range({HUGE_ARGUMENT_CALLS}):  # each call sends the string to the grader's stand-in
                    try:
                        convolutional_block(X_input, f=3, filters=huge, s=1)
                    except Exception:
                        pass
                return Model(X_input, Dense(classes)(Flatten()(X_input)))
        """),
        ("filters=<a str of 3,000,000 characters>",),
    ),
]

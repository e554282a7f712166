#pragma once
// Every analysis of a run, as pure functions over tensors: strata (k-means), PCA and intrinsic
// dimension, gating statistics, expert distances, agreement with the sources, bootstrap
// intervals and the Gaussian null model.
#include "core/analysis/agreement.h"
#include "core/analysis/bootstrap.h"
#include "core/analysis/gating_statistics.h"
#include "core/analysis/intrinsic_dimension.h"
#include "core/analysis/kmeans.h"
#include "core/analysis/neighbours.h"
#include "core/analysis/null_model.h"
#include "core/analysis/pca.h"
#include "core/analysis/subspace_angles.h"
